"""The portal's domain rules as pure functions: business calendars and the SLA clock.

Nothing here touches the database or the network; `sla_repository` is the thin adapter that reads the inputs
with a connection the caller provides (the RLS-scoped transaction of app/database.py, or the worker's).
"""
