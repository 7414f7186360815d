"""The base of the platform, imported by every part and importing nothing else of the project: errors and
paths (`errors`, `paths`) and the contracts the parts share (`routes`, `portal_env`, `system_accounts`, the
subprocessor register loader `subprocessors`). The `nexk` command itself lives on top, in `nexk_cli/`."""
