"""checkov custom checks (yaml/json frameworks) for the register, the Pulumi stack files and the deploy config.

checkov imports every module of this folder with `--external-checks-dir compliance/checks`; each module
registers one check on import. IDs: CKV_NEXK_<n>. Run them with `compliance.checkov_run.run()`.
"""
