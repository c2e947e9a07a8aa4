{{/*
Common labels. Deterministic on purpose: no chart version, no timestamps.
*/}}
{{- define "baremetal.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
baremetal.tees: the TEE kinds of the hardware profile, as JSON {"tdx": bool, "snp": bool}
(use with fromJson). The table is internal/config's HardwareProfiles (a test keeps them
equal); an unknown profile fails the render with the supported ones.
*/}}
{{- define "baremetal.tees" -}}
{{- $profiles := dict "intel-tdx" (dict "tdx" true "snp" false) "amd-snp" (dict "tdx" false "snp" true) "mixed" (dict "tdx" true "snp" true) -}}
{{- $p := .Values.global.coco.hardware.profile -}}
{{- if not (hasKey $profiles $p) -}}
{{- fail (printf "global.coco.hardware.profile %q is not a hardware profile; supported: %s" $p (keys $profiles | sortAlpha | join ", ")) -}}
{{- end -}}
{{- index $profiles $p | toJson -}}
{{- end }}
