{{/*
Common labels. Deterministic on purpose: no chart version, no timestamps.
*/}}
{{- define "kbs-access.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Runtime class: .Values.runtimeClassName if set, else kata-remote (peer pods)
on Azure and AWS, else kata-cc (bare metal).
*/}}
{{- define "kbs-access.runtimeClassName" -}}
{{- if .Values.runtimeClassName -}}
{{- .Values.runtimeClassName -}}
{{- else if has .Values.global.clusterPlatform (list "Azure" "AWS") -}}
kata-remote
{{- else -}}
kata-cc
{{- end -}}
{{- end }}

{{/*
Resource path below the CDH resource endpoint and the kbs:/// URI:
default/<kbsResource>/<kbsKey>.
*/}}
{{- define "kbs-access.resourcePath" -}}
default/{{ .Values.kbsResource }}/{{ .Values.kbsKey }}
{{- end }}
