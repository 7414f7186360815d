"""Offline rehearsal of the providers' lifecycle against in-process vendor simulators.

The simulators behave as the vendors document (each documented behaviour names its source); every request a
provider makes to them is recorded by `vendor_calls` so reviewers can check it against the vendors' contracts.
"""
