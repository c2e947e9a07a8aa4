{{/*
Common labels. Deterministic on purpose: no chart version, no timestamps.
*/}}
{{- define "sandboxed-containers.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
sandboxed-containers.clusterValues: the cluster-provided peer-pods-cm keys, as
JSON {"AZURE_REGION": ..., ...} (use with fromJson). Only the cluster can
supply these (cloud-conf, the KBS route host and its certificate), so an empty
value renders the placeholder "<cluster-provided: WHAT>" (obvious in review,
invalid for Azure), unless global.coco.azure.requireClusterValues is true
(cmp-plugin at sync time): then the render fails, naming every empty
peer-pods-cm key and the value to set for it.
*/}}
{{- define "sandboxed-containers.clusterValues" -}}
{{- $azure := .Values.global.coco.azure -}}
{{- /* peer-pods-cm key, key under global.coco.azure, what the cluster provides */ -}}
{{- $specs := list
      (list "AZURE_REGION" "region" "cloud-conf location")
      (list "AZURE_RESOURCE_GROUP" "resourceGroup" "cloud-conf resourceGroup")
      (list "AZURE_SUBNET_ID" "subnetID" "cloud-conf subnet")
      (list "AZURE_NSG_ID" "nsgID" "cloud-conf securityGroupName")
      (list "INITDATA" "initdata" "initdata with the KBS route host and certificate") -}}
{{- $values := dict -}}
{{- $missing := list -}}
{{- range $specs -}}
{{- $key := index . 0 -}}
{{- $valueKey := index . 1 -}}
{{- $what := index . 2 -}}
{{- $value := get $azure $valueKey | toString -}}
{{- if $value -}}
{{- $_ := set $values $key $value -}}
{{- else -}}
{{- $_ := set $values $key (printf "<cluster-provided: %s>" $what) -}}
{{- $missing = append $missing (printf "%s (set global.coco.azure.%s: %s)" $key $valueKey $what) -}}
{{- end -}}
{{- end -}}
{{- if and $missing $azure.requireClusterValues -}}
{{- fail (printf "peer-pods-cm: global.coco.azure.requireClusterValues is true, but these cluster-provided values are empty: %s" (join "; " $missing)) -}}
{{- end -}}
{{- toJson $values -}}
{{- end }}

{{/*
sandboxed-containers.instanceSizes: global.coco.azure.VMFlavours with all
spaces removed and empty entries dropped, joined with "," (AZURE_INSTANCE_SIZES).
*/}}
{{- define "sandboxed-containers.instanceSizes" -}}
{{- $sizes := list -}}
{{- range splitList "," (nospace .Values.global.coco.azure.VMFlavours) -}}
{{- if . -}}
{{- $sizes = append $sizes . -}}
{{- end -}}
{{- end -}}
{{- join "," $sizes -}}
{{- end }}
