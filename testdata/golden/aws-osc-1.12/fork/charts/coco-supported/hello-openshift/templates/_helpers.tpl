{{/*
Common labels. Deterministic on purpose: no chart version, no timestamps.
*/}}
{{- define "hello-openshift.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Runtime class of the confidential variants: .Values.runtimeClassName if set,
else kata-remote (peer pods) on Azure and AWS, else kata-cc (bare metal).
*/}}
{{- define "hello-openshift.runtimeClassName" -}}
{{- if .Values.runtimeClassName -}}
{{- .Values.runtimeClassName -}}
{{- else if has .Values.global.clusterPlatform (list "Azure" "AWS") -}}
kata-remote
{{- else -}}
kata-cc
{{- end -}}
{{- end }}

{{/*
Checks the variants list: unique names, insecurePolicy only with confidential.
Renders nothing.
*/}}
{{- define "hello-openshift.validateVariants" -}}
{{- $seen := dict -}}
{{- range .Values.variants -}}
{{- if hasKey $seen .name -}}
{{- fail (printf "variants: name %q is used twice; every variant needs its own Deployment, Service and Route" .name) -}}
{{- end -}}
{{- $_ := set $seen .name true -}}
{{- if and .insecurePolicy (not .confidential) -}}
{{- fail (printf "variants[%s]: insecurePolicy needs confidential: true (the agent policy only applies to kata pods)" .name) -}}
{{- end -}}
{{- end -}}
{{- end }}
