"""SQL the routes run, one module per concept; every function takes the request's RLS-scoped connection."""
