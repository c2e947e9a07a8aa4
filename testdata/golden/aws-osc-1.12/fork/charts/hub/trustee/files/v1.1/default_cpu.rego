# Attestation policy for Azure confidential VMs with a vTPM (peer pods), Trustee 1.1 and 1.2.
# Rego v1 (`if`, `contains`, `in`, `every`).
#
# The attestation service evaluates this policy with the verified evidence as `input`; reference
# values come from the RVPS through query_reference_value("<name>"). The policy yields the EAR
# trust claims in `trust_claims`: the token status is "affirming" only when every claim set there
# is in the affirming range (2-31), and the resource policy releases resources only then.
#
# The verifier has already checked the HCL report (AMD SEV-SNP or Intel TDX), that the vTPM quote
# is signed by the attestation key in it, the nonce, and that PCR 8 equals the initdata digest.
# What is left to decide is whether the measured software is the expected one, from the SHA-256
# vTPM PCRs, compared with reference values named snp_<pcr> or tdx_<pcr>:
#   pcr03  firmware and boot configuration
#   pcr08  initdata (changes with every byte of the initdata TOML)
#   pcr09  kernel, initrd and kernel command line (dm-verity root hash)
#   pcr11  unified kernel image
#   pcr12  command line and credentials
# A PCR without a matching reference value (or without a claim) keeps executables at 33, so the
# token is not affirming.

package policy

import rego.v1

# 33: "Runtime memory includes executables, scripts, files, and/or objects which are not
# recognized."
default executables := 33

# 97: "A Verifier does not recognize an Attester's hardware or firmware, but it should be
# recognized."
default hardware := 97

# 36: "Elements of the configuration relevant to security are unavailable to the Verifier."
default configuration := 36

# 0: no claim made about these.
default file_system := 0

default instance_identity := 0

default runtime_opaque := 0

default storage_opaque := 0

default sourced_data := 0

trust_claims := {
	"executables": executables,
	"hardware": hardware,
	"configuration": configuration,
	"file-system": file_system,
	"instance-identity": instance_identity,
	"runtime-opaque": runtime_opaque,
	"storage-opaque": storage_opaque,
	"sourced-data": sourced_data,
}

# The vTPM PCRs compared with reference values.
vtpm_pcrs := ["pcr03", "pcr08", "pcr09", "pcr11", "pcr12"]

# A reference value is either one accepted value or a list of accepted values.
accepted(name, value) if value in query_reference_value(name)

accepted(name, value) if value == query_reference_value(name)

##### Azure SEV-SNP with vTPM (input["az-snp-vtpm"])

# PCRs whose measured value is among the reference values snp_<pcr>. Written as a positive
# match on purpose: a missing claim or reference value leaves the PCR out, so it fails closed
# (a negated test would be skipped, not failed, when the lookup is undefined).
snp_matching_pcrs contains pcr if {
	some pcr in vtpm_pcrs
	accepted(sprintf("snp_%s", [pcr]), input["az-snp-vtpm"].tpm[pcr])
}

# 3: "Only a recognized genuine set of approved executables have been loaded during the boot
# process." Every PCR must match.
executables := 3 if {
	input["az-snp-vtpm"]
	every pcr in vtpm_pcrs {
		pcr in snp_matching_pcrs
	}
}

# 2: "An Attester has passed its hardware and/or firmware verifications needed to demonstrate
# that these are genuine/supported." Verified SNP vTPM evidence is that verification.
hardware := 2 if {
	input["az-snp-vtpm"]
}

# 2: "The configuration is a known and approved config." The initdata (the configuration of the
# guest) is bound to PCR 8, which the executables rule checks.
configuration := 2 if {
	input["az-snp-vtpm"]
}

##### Azure TDX with vTPM (input["az-tdx-vtpm"])

# PCRs whose measured value is among the reference values tdx_<pcr>.
tdx_matching_pcrs contains pcr if {
	some pcr in vtpm_pcrs
	accepted(sprintf("tdx_%s", [pcr]), input["az-tdx-vtpm"].tpm[pcr])
}

executables := 3 if {
	input["az-tdx-vtpm"]
	every pcr in vtpm_pcrs {
		pcr in tdx_matching_pcrs
	}
}

# A TDX quote (TEE type 0x81) produced by the Intel quoting enclave (vendor id).
hardware := 2 if {
	input["az-tdx-vtpm"].quote.header.tee_type == "81000000"
	input["az-tdx-vtpm"].quote.header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
}

configuration := 2 if {
	input["az-tdx-vtpm"]
}
