# Resource policy, Trustee 1.1 and 1.2 (Rego v1).
# The KBS evaluates it for every resource request, with the claims of the verified attestation
# token (EAR) as `input`. A resource is released only when the token has at least one appraisal
# (submod) and every appraisal is "affirming".

package policy

import rego.v1

default allow := false

allow if {
	count(input.submods) > 0
	every submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}
