{{- define "cmp-plugin-rbac.labels" -}}
app.kubernetes.io/name: cmp-plugin-rbac
app.kubernetes.io/part-of: {{ .Values.global.pattern }}
{{- end -}}
