# Resource policy, Trustee 0.4 (classic Rego).
# The KBS evaluates it for every resource request, with the claims of the verified attestation
# token (EAR) as `input`. A resource is released only when the CPU appraisal is "affirming",
# i.e. the attestation policy accepted every trust claim it set.

package policy

default allow = false

allow {
	input["submods"]["cpu"]["ear.status"] == "affirming"
}
