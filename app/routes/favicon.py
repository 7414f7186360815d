"""`/favicon.ico`: browsers ask for it at the site root whatever the page says, so it is served there (the
pages also link the SVG under /static). Cached for a day, like the other static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()
ICON = Path(__file__).resolve().parents[1] / "static" / "favicon.ico"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(ICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
