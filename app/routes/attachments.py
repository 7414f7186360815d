"""Attachment downloads: served only after RLS lets the caller read the attachment row (and, in storage,
the object), always as a download (`Content-Disposition: attachment`, `nosniff`), and logged."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from app.filetypes import content_disposition
from app.i18n import N_
from app.queries import attachments as rows
from app.queries import audit
from app.storage import StorageUnavailable
from app.web import viewer_transaction

router = APIRouter()


@router.get("/attachments/{attachment_id}")
def download(request: Request, attachment_id: uuid.UUID) -> Response:
    with viewer_transaction(request) as (conn, viewer):
        attachment = rows.get_attachment(conn, attachment_id)
        if attachment is None:
            raise HTTPException(404, N_("This file does not exist, or you do not have access to it."))
        audit.record_read(conn, "attachments", attachment_id)
    try:
        data = request.app.state.storage.load(viewer.claims, viewer.access_token, attachment["storage_path"])
    except StorageUnavailable:
        raise HTTPException(
            404, N_("This file is not available any more: ask the sender to attach it again.")
        ) from None
    return Response(
        data,
        media_type=attachment["content_type"],
        headers={
            "Content-Disposition": content_disposition(attachment["file_name"]),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
