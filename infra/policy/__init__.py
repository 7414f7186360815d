"""The CrossGuard policy pack (`pulumi up --policy-pack infra/policy`); rules in `policies.py`."""
