
##### Bare-metal TEEs (platform BareMetal; appended to the policy above for Trustee 1.1 and 1.2)
#
# Claim names are the verifiers' own (confidential-containers/trustee deps/verifier tdx and
# snp). Reference values come from the fork's values-firmware.yaml (mr_td, rtmr_1, rtmr_2, xfam;
# snp_launch_measurement and the SNP TCB versions) and from cmp-plugin (init_data): a missing
# one leaves its claim at the failing default, so nothing is released.
#
# The verifier's init_data claim (TDX MRCONFIGID, SNP HOST_DATA) is moved to input.init_data,
# beside input.init_data_claims, the initdata document the guest presented (trustee
# attestation-service ear_token/broker.rs transform_claims). The host sets MRCONFIGID and
# HOST_DATA; only when the guest presents its initdata does the verifier check that they are
# its digest (lib.rs parse_init_data; the KBS passes it as TOML, kbs/src/attestation/coco/
# builtin.rs), so both must hold.
guest_initdata_bound if {
	accepted("init_data", input.init_data)
	is_object(input.init_data_claims)
}

# A TCB version (an integer claim) that is among the reference values, kept as decimal strings.
accepted_number(name, value) if {
	some v in query_reference_value(name)
	to_number(v) == value
}

##### Intel TDX (input.tdx)
#
# The verifier has checked the quote against Intel's collateral, the nonce and that MRCONFIGID is
# the digest of the initdata the guest sent (the SHA-256 padded to 48 bytes).

# 3: the TD booted an approved kernel and initrd (RTMR1) with an approved command line, which
# holds the dm-verity root hash (RTMR2), and carries this KBS's initdata.
executables := 3 if {
	input.tdx
	accepted("rtmr_1", input.tdx.quote.body.rtmr_1)
	accepted("rtmr_2", input.tdx.quote.body.rtmr_2)
	guest_initdata_bound
}

# 2: a TDX quote (TEE type 0x81) from Intel's quoting enclave, with approved TD firmware (MRTD),
# on a platform whose TCB is up to date under unexpired collateral.
hardware := 2 if {
	input.tdx.quote.header.tee_type == "81000000"
	input.tdx.quote.header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
	accepted("mr_td", input.tdx.quote.body.mr_td)
	input.tdx.tcb_status == "UpToDate"
	input.tdx.collateral_expiration_status == "0"
}

# 2: not a debug TD, and the CPU features it was given (XFAM) are the approved ones.
configuration := 2 if {
	input.tdx.td_attributes.debug == false
	accepted("xfam", input.tdx.quote.body.xfam)
}

##### AMD SEV-SNP (input.snp)
#
# The verifier has checked the report against the chip's VCEK, the nonce and that HOST_DATA is the
# digest of the initdata the guest sent (the SHA-256).

# 3: the launch measurement (firmware, kernel, initrd and command line) is an approved one, and
# the guest carries this KBS's initdata.
executables := 3 if {
	input.snp
	accepted("snp_launch_measurement", input.snp.measurement)
	guest_initdata_bound
}

# 2: the platform's reported TCB (bootloader, microcode, SNP firmware, TEE) is an approved one.
hardware := 2 if {
	input.snp
	accepted_number("snp_bootloader", input.snp.reported_tcb_bootloader)
	accepted_number("snp_microcode", input.snp.reported_tcb_microcode)
	accepted_number("snp_snp_svn", input.snp.reported_tcb_snp)
	accepted_number("snp_tee_svn", input.snp.reported_tcb_tee)
}

# 2: the guest policy forbids debugging and migration agents.
configuration := 2 if {
	input.snp.policy_debug_allowed == false
	input.snp.policy_migrate_ma == false
}
