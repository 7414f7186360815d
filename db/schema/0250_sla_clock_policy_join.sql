-- The SLA clocks' read policy, rewritten as a correlated EXISTS.
--
-- 0201 wrote it as `ticket_id in (select t.id from public.tickets as t)`. PostgreSQL does not turn that into
-- a join under RLS: every list page evaluated the caller's whole set of visible tickets (about 1M rows through
-- the tickets policies at the benchmark's scale: 245-480 ms and ~220 ms of database CPU per page,
-- bench/results/portal.md). The EXISTS form probes one ticket by primary key per clock row. The rule is
-- unchanged: a clock is visible exactly when its ticket is visible (the tickets policies decide).
alter policy ticket_sla_clocks_select on private.ticket_sla_clocks
using (
    exists (
        select 1 from public.tickets as t
        where t.id = ticket_sla_clocks.ticket_id
    )
);
