"""GDPR self-service ("My data"): download everything the portal holds about you, and ask for rectification,
erasure, restriction or objection; each request shows its status and due date.

Everything runs in the viewer's RLS transaction: the export comes from `private.my_dsr_export()`, which can
only export the caller, and the attachment bytes are fetched from storage as the user (app.storage), exactly
as a download would be. The zip has the layout of `nexk dsr export` (compliance/dsr.py): `export.json` plus
`attachments/<id>/<file name>`.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.i18n import _
from app.queries import my_data
from app.storage import StorageUnavailable
from app.web import render, viewer_transaction

router = APIRouter()


def _page(request: Request, viewer: Any, requests: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"viewer": viewer, "requests": requests, "types": my_data.REQUEST_TYPES, "details": "", **extra}


@router.get("/my-data")
def my_data_page(request: Request, sent: bool = False) -> Response:
    with viewer_transaction(request, read_only=True) as (conn, viewer):
        requests = my_data.my_requests(conn)
    return render(request, "my_data.html", _page(request, viewer, requests, sent=sent))


@router.get("/my-data/export")
def download_export(request: Request) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        data = my_data.export(conn)
    storage = request.app.state.storage
    missing: list[str] = []
    archive_bytes = io.BytesIO()
    with zipfile.ZipFile(archive_bytes, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in data.get("attachments", []):
            try:
                content = storage.load(viewer.claims, viewer.access_token, item["storage_path"])
            except StorageUnavailable:
                missing.append(item["id"])
                continue
            archive.writestr(f"attachments/{item['id']}/{item['file_name']}", content)
        data["attachments_missing"] = missing
        archive.writestr("export.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return Response(
        archive_bytes.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="mynexk-my-data.zip"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/my-data/requests")
def file_request(
    request: Request,
    type: Annotated[str, Form(max_length=100)] = "",
    details: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        # Inside the transaction: the messages need the viewer's profile language.
        problems = []
        if type not in my_data.REQUEST_TYPES:
            problems.append(_("Request: choose what you are asking for from the list."))
        if len(details.strip()) > 2000:
            problems.append(_("Details: at most 2,000 characters."))
        if not problems:
            try:
                with conn.transaction():  # a savepoint: a refusal leaves the page's transaction usable
                    my_data.request(conn, type, details)
            except psycopg.errors.UniqueViolation:
                problems.append(
                    _("You already have an open request of this kind: we will answer it before its due date.")
                )
        if problems:
            requests = my_data.my_requests(conn)
            context = _page(request, viewer, requests, errors=problems, details=details, chosen=type)
            return render(request, "my_data.html", context, status_code=422)
    return RedirectResponse("/my-data?sent=true", status_code=303)
