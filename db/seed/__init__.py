"""Synthetic data: deterministic Belgian tenants bulk-loaded with COPY (`nexk db seed`), and the demo world.

- `belgium`: enterprise numbers, phone numbers, the locale mix.
- `world`: pure generation of rows from (orgs, users per org, tickets, seed, epoch): same input, same rows.
- `load`: COPY into a database in one transaction, then a set-based integrity proof.
- `demo`: the small demo world and its logins for `make dev`.
"""
