# Attestation policy for Azure confidential VMs with a vTPM (peer pods), Trustee 0.4.
# Classic Rego (no rego.v1 keywords).
#
# The attestation service evaluates this policy with the verified evidence as `input` and the
# RVPS reference values as `data.reference.<name>` (each a list of accepted values). It yields
# EAR trust claims: the token status is "affirming" only when every claim set here is in the
# affirming range (2-31), and the resource policy releases resources only then.
#
# The verifier has already checked the HCL report (AMD SEV-SNP or Intel TDX), that the vTPM quote
# is signed by the attestation key in it, the nonce, and that PCR 8 equals the initdata digest.
# What is left to decide is whether the measured software is the expected one, from the SHA-256
# vTPM PCRs, compared with these reference values:
#   pcr03  firmware and boot configuration
#   pcr08  initdata (changes with every byte of the initdata TOML)
#   pcr09  kernel, initrd and kernel command line (dm-verity root hash)
#   pcr11  unified kernel image
#   pcr12  command line and credentials
# The same names serve SNP and TDX, as in Trustee 0.4. With no reference value for a PCR the
# checks below are undefined, the defaults stay, and the token is not affirming.

package policy

# 33: "Runtime memory includes executables, scripts, files, and/or objects which are not
# recognized."
default executables = 33

# 97: "A Verifier does not recognize an Attester's hardware or firmware, but it should be
# recognized."
default hardware = 97

# 36: "Elements of the configuration relevant to security are unavailable to the Verifier."
default configuration = 36

##### Azure SEV-SNP with vTPM (input.azsnpvtpm)

# 3: "Only a recognized genuine set of approved executables have been loaded during the boot
# process." Every PCR must equal one of its reference values.
executables = 3 {
	input.azsnpvtpm.tpm.pcr03 == data.reference.pcr03[_]
	input.azsnpvtpm.tpm.pcr08 == data.reference.pcr08[_]
	input.azsnpvtpm.tpm.pcr09 == data.reference.pcr09[_]
	input.azsnpvtpm.tpm.pcr11 == data.reference.pcr11[_]
	input.azsnpvtpm.tpm.pcr12 == data.reference.pcr12[_]
}

# 2: "An Attester has passed its hardware and/or firmware verifications needed to demonstrate
# that these are genuine/supported." Verified SNP vTPM evidence is that verification.
hardware = 2 {
	input.azsnpvtpm
}

# 2: "The configuration is a known and approved config." The initdata (the configuration of the
# guest) is bound to PCR 8, which the executables rule checks.
configuration = 2 {
	input.azsnpvtpm
}

##### Azure TDX with vTPM (input.aztdxvtpm)

executables = 3 {
	input.aztdxvtpm.tpm.pcr03 == data.reference.pcr03[_]
	input.aztdxvtpm.tpm.pcr08 == data.reference.pcr08[_]
	input.aztdxvtpm.tpm.pcr09 == data.reference.pcr09[_]
	input.aztdxvtpm.tpm.pcr11 == data.reference.pcr11[_]
	input.aztdxvtpm.tpm.pcr12 == data.reference.pcr12[_]
}

# A TDX quote (TEE type 0x81) produced by the Intel quoting enclave (vendor id).
hardware = 2 {
	input.aztdxvtpm.quote.header.tee_type == "81000000"
	input.aztdxvtpm.quote.header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
}

configuration = 2 {
	input.aztdxvtpm
}
