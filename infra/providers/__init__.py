"""Pulumi dynamic providers, one module per vendor API (`supabase`, `brevo`) plus the database
`migrations`, `database_role` (the notifier role's password) and `supabase_auth_admin` (system accounts in
Supabase Auth, through GoTrue's admin API).

The program builds resources from these classes; the provider classes are pickled by reference, so the
`pulumi` process must be able to import this package (`make` installs the repository in editable mode).
"""
