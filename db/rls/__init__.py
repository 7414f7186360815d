"""RLS tooling: `nexk rls lint` (static checks over db/ and catalog checks on a migrated database)."""
