-- Small utilities every other file may use: timestamps, immutability, Belgian enterprise numbers.

-- Keeps `updated_at` honest: clients never send it (no column grant), the trigger sets it.
create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end
$$;
revoke all on function private.set_updated_at() from public;

-- A Belgian enterprise number (KBO/BCE) is ten digits, written 0123.456.789 (new numbers start with 1);
-- the last two digits are 97 - (first eight digits mod 97).
create or replace function private.is_valid_be_enterprise_number(p_number text) returns boolean
language sql immutable strict
set search_path = ''
as $$
    select p_number ~ '^[01][0-9]{3}\.[0-9]{3}\.[0-9]{3}$'
        and 97 - (left(replace(p_number, '.', ''), 8)::bigint % 97)
        = right(replace(p_number, '.', ''), 2)::integer
$$;
revoke all on function private.is_valid_be_enterprise_number(text) from public;
grant execute on function private.is_valid_be_enterprise_number(text) to authenticated;
