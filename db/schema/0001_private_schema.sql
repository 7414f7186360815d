-- The `private` schema holds the helper functions that RLS policies and triggers call.
-- PostgREST exposes only `public` (pgrst.db_schemas), so nothing here is reachable through the Data API
-- (/rpc); `authenticated` still needs USAGE because policy expressions run with the caller's privileges.
create schema if not exists private;

revoke all on schema private from public;
grant usage on schema private to authenticated;

comment on schema private is 'Helpers for RLS policies and triggers; never exposed through the API.';
