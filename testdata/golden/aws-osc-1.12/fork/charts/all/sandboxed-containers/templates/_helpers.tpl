{{/*
Common labels. Deterministic on purpose: no chart version, no timestamps.
*/}}
{{- define "sandboxed-containers.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
sandboxed-containers.clusterValues: the peer-pods-cm keys only the cluster (or the
fork) can supply, for the platform's settings under global.coco.<provider>
(azure or aws), as JSON {"AZURE_REGION": ..., ...} (use with fromJson). Argument:
dict "root" (the chart root) "provider" ("azure" or "aws"). An empty value renders
the placeholder "<cluster-provided: WHAT>" (obvious in review, invalid for the
cloud), unless global.coco.<provider>.requireClusterValues is true (cmp-plugin at
sync time): then the render fails, naming every empty peer-pods-cm key and the
value to set for it. The table is internal/peerpods' (a test keeps them equal).
*/}}
{{- define "sandboxed-containers.clusterValues" -}}
{{- $provider := .provider -}}
{{- $settings := get .root.Values.global.coco $provider | default dict -}}
{{- /* peer-pods-cm key, key under global.coco.<provider>, what supplies it */ -}}
{{- $specs := list
      (list "AZURE_REGION" "region" "cloud-conf location")
      (list "AZURE_RESOURCE_GROUP" "resourceGroup" "cloud-conf resourceGroup")
      (list "AZURE_SUBNET_ID" "subnetID" "cloud-conf subnet")
      (list "AZURE_NSG_ID" "nsgID" "cloud-conf securityGroupName")
      (list "INITDATA" "initdata" "initdata with the KBS route host and certificate") -}}
{{- if eq $provider "aws" -}}
{{- $specs = list
      (list "AWS_REGION" "region" "the Infrastructure's region")
      (list "AWS_SUBNET_ID" "subnetID" "a worker MachineSet's subnet ID")
      (list "AWS_SG_IDS" "securityGroupIDs" "the worker MachineSets' security group IDs")
      (list "AWS_VPC_ID" "vpcID" "the subnet's VPC, which no cluster object holds")
      (list "INITDATA" "initdata" "initdata with the KBS route host and certificate") -}}
{{- end -}}
{{- $values := dict -}}
{{- $missing := list -}}
{{- range $specs -}}
{{- $key := index . 0 -}}
{{- $valueKey := index . 1 -}}
{{- $what := index . 2 -}}
{{- $value := get $settings $valueKey | toString -}}
{{- if $value -}}
{{- $_ := set $values $key $value -}}
{{- else -}}
{{- $_ := set $values $key (printf "<cluster-provided: %s>" $what) -}}
{{- $missing = append $missing (printf "%s (set global.coco.%s.%s: %s)" $key $provider $valueKey $what) -}}
{{- end -}}
{{- end -}}
{{- if and $missing $settings.requireClusterValues -}}
{{- fail (printf "peer-pods-cm: global.coco.%s.requireClusterValues is true, but these cluster-provided values are empty: %s" $provider (join "; " $missing)) -}}
{{- end -}}
{{- toJson $values -}}
{{- end }}

{{/*
sandboxed-containers.list: a comma-separated list with all spaces removed and
empty entries dropped, joined with ",".
*/}}
{{- define "sandboxed-containers.list" -}}
{{- $items := list -}}
{{- range splitList "," (nospace (toString (. | default ""))) -}}
{{- if . -}}
{{- $items = append $items . -}}
{{- end -}}
{{- end -}}
{{- join "," $items -}}
{{- end }}

{{/*
sandboxed-containers.instanceSizes: global.coco.azure.VMFlavours as a clean list
(AZURE_INSTANCE_SIZES).
*/}}
{{- define "sandboxed-containers.instanceSizes" -}}
{{- include "sandboxed-containers.list" .Values.global.coco.azure.VMFlavours -}}
{{- end }}
