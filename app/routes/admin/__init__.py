"""Administration (`/admin/...`): NexK admins at aal2 manage organizations, people, agent assignments, SLA
plans and calendars, the DSR queue, and read the audit log. Everything goes through the admin's RLS
transaction; the policies are what allow it (db/policies/README.md)."""

from fastapi import APIRouter

from app.routes.admin import audit, dsr, organizations, sla

router = APIRouter()
for _module in (organizations, sla, dsr, audit):
    router.include_router(_module.router)
