-- service_role gives up what 0100-0203 granted it in `private`. Those grants were for server-side jobs. The
-- retention and DSR tooling runs as the owner (`nexk retention`, `nexk dsr`, pg_cron); the notification worker
-- and the Brevo webhook run as `nexk_notifier` since 0203 (least privilege, no BYPASSRLS); the storage sweeper
-- (0270) signs in as a system account and invitations (0280) go through the before-user-created hook. Nothing
-- of the platform uses service_role any more, and since it bypasses RLS, grants it keeps are reach nothing
-- needs; db/tests/test_schema.py proves none is left in `private`.

revoke select, insert, update on private.notifications from service_role;
revoke select on private.ticket_sla_clocks from service_role;
revoke select on private.retention_policy from service_role;
revoke execute on function private.enqueue_notification(text, text, text, uuid, uuid, text, jsonb),
private.record_delivery_event(uuid, text, text, timestamptz),
private.notifier_open_tickets(),
private.notifier_business_calendar(uuid),
private.notifier_sla_recipients(uuid, uuid),
private.is_restricted(uuid),
private.has_objected(uuid, text) from service_role;
revoke usage on schema private from service_role;
