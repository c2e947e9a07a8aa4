{{- define "kbs-publish.labels" -}}
app.kubernetes.io/name: kbs-publish
app.kubernetes.io/part-of: {{ .Values.global.pattern }}
{{- end -}}
