{{/*
Common labels. No chart version, release date or other changing data: the rendered output must be
byte-identical for the same values.
*/}}
{{- define "trustee.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Values.global.pattern }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
The Trustee configuration format for global.coco.versions.trustee: "0.4", "1.1" or "1.2".
The formats of kbs-config.toml, the admin section and both Rego policies changed between 0.4 and
1.1; 1.2 changes kbs-config.toml again (admin authorization_mode, the storage backend), the
ConfigMap keys of the resource policy and reference values, and deletes referenced ConfigMaps
without its migration annotation. Any other version fails instead of rendering a configuration
the operator would misread.
*/}}
{{- define "trustee.format" -}}
{{- $v := toString .Values.global.coco.versions.trustee -}}
{{- $supported := "supported: 0.4.x (with OSC 1.10), 1.1.x (with OSC 1.12) and 1.2.x (with OSC 1.13)" -}}
{{- if not (regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+$" $v) -}}
{{- fail (printf "global.coco.versions.trustee: %q is not a version of the form x.y.z; %s" $v $supported) -}}
{{- else if semverCompare "~0.4.0" $v -}}
0.4
{{- else if semverCompare "~1.1.0" $v -}}
1.1
{{- else if semverCompare "~1.2.0" $v -}}
1.2
{{- else -}}
{{- fail (printf "global.coco.versions.trustee: Trustee %s is not supported by the trustee chart; %s" $v $supported) -}}
{{- end -}}
{{- end -}}

{{/*
The operator versions the fork subscribes must be the ones the configuration is written for
(checked once per render, from kbsconfig.yaml): a
Trustee subscription's csv that installs another version than global.coco.versions.trustee, or
an OSC version that does not pair with it, would give the operator a format it misreads (Trustee
1.2 deletes, on every reconcile, 1.1-format ConfigMaps without its migration annotation).
*/}}
{{- define "trustee.checkPins" -}}
{{- $v := toString .Values.global.coco.versions.trustee -}}
{{- $osc := toString (.Values.global.coco.versions.sandboxedContainers | default "") -}}
{{- $pairs := dict "0.4" "1.10" "1.1" "1.12" "1.2" "1.13" -}}
{{- $line := regexFind "^[0-9]+\\.[0-9]+" $v -}}
{{- if and $osc (not (semverCompare (printf "~%s.0" (get $pairs $line)) $osc)) -}}
{{- fail (printf "global.coco.versions: Trustee %s does not pair with OSC %s; supported pairs: OSC 1.10.x with Trustee 0.4.x, 1.12.x with 1.1.x, 1.13.x with 1.2.x (operators in pattern-gen.yaml, then pattern-gen update)" $v $osc) -}}
{{- end -}}
{{- $subs := (.Values.clusterGroup | default dict).subscriptions | default dict -}}
{{- range $key, $sub := (kindIs "slice" $subs | ternary (dict) $subs) -}}
{{- include "trustee.checkSubscription" (dict "sub" $sub "where" (printf "clusterGroup.subscriptions.%s" $key) "version" $v) -}}
{{- end -}}
{{- if kindIs "slice" $subs -}}
{{- range $i, $sub := $subs -}}
{{- include "trustee.checkSubscription" (dict "sub" $sub "where" (printf "clusterGroup.subscriptions[%d]" $i) "version" $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "trustee.checkSubscription" -}}
{{- $sub := .sub | default dict -}}
{{- if and (kindIs "map" $sub) (eq (toString $sub.name) "trustee-operator") $sub.csv (not $sub.disabled) -}}
{{- $installs := trimPrefix "trustee-operator.v" (toString $sub.csv) -}}
{{- if ne $installs .version -}}
{{- fail (printf "%s.csv: %s installs Trustee %s, but global.coco.versions.trustee is %s, the version this chart writes the configuration for; keep them equal (operators.trustee.csv in pattern-gen.yaml, then pattern-gen update)" .where (toString $sub.csv) $installs .version) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Metadata of a ConfigMap the KbsConfig references: its name, namespace, labels and, for Trustee
1.2, the annotation that marks it migrated. Trustee 1.2's operator backs up and deletes, on every
reconcile, each referenced ConfigMap without it (openshift/trustee-operator v1.2.1
internal/controller/migration.go), which with Argo CD's self-heal would delete and recreate the
pattern's configuration forever. Arguments (dict): root, name, format (trustee.format).
*/}}
{{- define "trustee.configMapMeta" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace }}
labels:
  {{- include "trustee.labels" .root | nindent 2 }}
{{- if eq .format "1.2" }}
annotations:
  kbs.confidentialcontainers.org/migrated-from-v1.1.0: v1.2.0
{{- end }}
{{- end -}}

{{/*
Secret names this chart fills itself. An entry of global.coco.trustee.secretResources with one of
these names would produce two ExternalSecrets for one Secret.
*/}}
{{- define "trustee.reservedSecretNames" -}}
{{- list "kbs-auth-public-key" "security-policy" "cosign-keys" "kbs-https-key" "kbs-https-certificate" "attestation-token" | toJson -}}
{{- end -}}

{{/*
Names of the Secrets the KBS serves as resources (kbs:///default/<name>/<key>), in a fixed order:
global.coco.trustee.secretResources as given, then security-policy (the image signature policy
the initdata points at), then cosign-keys for the "signed" flavour, then, for Trustee 0.4 only,
attestation-token: 0.4 has no KbsConfig field for the token signer, so its key and certificate
reach the KBS through the resource repository (see "trustee.tokenPaths").
*/}}
{{- define "trustee.secretResources" -}}
{{- $reserved := include "trustee.reservedSecretNames" . | fromJsonArray -}}
{{- range .Values.global.coco.trustee.secretResources -}}
{{- if has . $reserved -}}
{{- fail (printf "global.coco.trustee.secretResources: %q is a Secret this chart already manages; reserved names: %s" . (join ", " $reserved)) -}}
{{- end -}}
{{- end -}}
{{- $names := concat .Values.global.coco.trustee.secretResources (list "security-policy") -}}
{{- if eq .Values.global.coco.securityPolicyFlavour "signed" -}}
{{- $names = append $names "cosign-keys" -}}
{{- end -}}
{{- if eq (include "trustee.format" .) "0.4" -}}
{{- $names = append $names "attestation-token" -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
One ExternalSecret (external-secrets.io/v1). Arguments (dict):
  root        the chart root context
  name        ExternalSecret name
  target      name of the Secret it creates
  key         Vault path (secret/data/...)
  properties  optional list of dicts {secretKey, property}: copy single properties of the Vault
              secret (spec.data); without it every property is copied (spec.dataFrom.extract)
*/}}
{{- define "trustee.externalSecret" -}}
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ .name | quote }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "trustee.labels" .root | nindent 4 }}
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  refreshInterval: 15s
  secretStoreRef:
    name: {{ .root.Values.secretStore.name | quote }}
    kind: {{ .root.Values.secretStore.kind }}
  target:
    name: {{ .target | quote }}
    creationPolicy: Owner
  {{- if .properties }}
  data:
    {{- range .properties }}
    - secretKey: {{ .secretKey | quote }}
      remoteRef:
        key: {{ $.key | quote }}
        property: {{ .property | quote }}
    {{- end }}
  {{- else }}
  dataFrom:
    - extract:
        key: {{ .key | quote }}
  {{- end }}
{{- end -}}

{{/*
A chart file as the body of a YAML literal block at indentation 4, without trailing whitespace on
blank lines. Arguments (dict): root, path. The file must exist.
*/}}
{{- define "trustee.fileBlock" -}}
{{- $content := .root.Files.Get .path -}}
{{- if not $content -}}
{{- fail (printf "trustee chart: file %s is missing or empty" .path) -}}
{{- end -}}
{{- regexReplaceAll "(?m)^[ \t]+$" ($content | trimSuffix "\n" | indent 4) "" -}}
{{- end -}}


{{/*
Where the KBS finds the attestation token signing key and certificate (Secret attestation-token,
keys token.key and token.crt), as a dict {key, cert}. 1.1 mounts the Secret through
KbsConfig kbsAttestationKeySecretName / kbsAttestationCertSecretName; 0.4 has no such fields and
reads it from the resource repository.
*/}}
{{- define "trustee.tokenPaths" -}}
{{- if eq (include "trustee.format" .) "0.4" -}}
{{- dict "key" "/opt/confidential-containers/kbs/repository/default/attestation-token/token.key" "cert" "/opt/confidential-containers/kbs/repository/default/attestation-token/token.crt" | toJson -}}
{{- else -}}
{{- dict "key" "/etc/attestation-key/token.key" "cert" "/etc/attestation-cert/token.crt" | toJson -}}
{{- end -}}
{{- end -}}

{{/*
trustee.tees: the bare-metal TEE kinds whose evidence this KBS verifies, from
global.coco.hardware.profile, as JSON {"tdx": bool, "snp": bool} (use with fromJson); both
false on peer-pod platforms (no hardware key). The table is internal/config's
HardwareProfiles (a test keeps them equal). Trustee 0.4 (OSC 1.10) has no bare-metal pairing.
*/}}
{{- define "trustee.tees" -}}
{{- $profiles := dict "intel-tdx" (dict "tdx" true "snp" false) "amd-snp" (dict "tdx" false "snp" true) "mixed" (dict "tdx" true "snp" true) -}}
{{- $p := ((.Values.global.coco.hardware | default dict).profile | default "") -}}
{{- if not $p -}}
{{- dict "tdx" false "snp" false | toJson -}}
{{- else if not (hasKey $profiles $p) -}}
{{- fail (printf "global.coco.hardware.profile %q is not a hardware profile; supported: %s" $p (keys $profiles | sortAlpha | join ", ")) -}}
{{- else if eq (include "trustee.format" .) "0.4" -}}
{{- fail "global.coco.hardware.profile: Trustee 0.4 (OSC 1.10) has no bare-metal confidential containers; pin OSC 1.12 with Trustee 1.1 or OSC 1.13 with Trustee 1.2" -}}
{{- else -}}
{{- index $profiles $p | toJson -}}
{{- end -}}
{{- end }}

{{/*
trustee.tdxCollateralService: where the TDX verifier fetches Intel's collateral (TCB info,
QE identity, CRLs). Trustee's own default, Intel's PCS, unless the fork points it at a PCCS.
*/}}
{{- define "trustee.tdxCollateralService" -}}
{{- .Values.global.coco.trustee.tdxCollateralService | default "https://api.trustedservices.intel.com/sgx/certification/v4/" -}}
{{- end }}
