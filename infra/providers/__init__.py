"""Pulumi dynamic providers, one module per vendor API (`supabase`, `brevo`) plus the database
`migrations` and `database_role` (the notifier role's password).

The program builds resources from these classes; the provider classes are pickled by reference, so the
`pulumi` process must be able to import this package (`make` installs the repository in editable mode).
"""
