"""One portal process for tests of what must hold across instances (tests/app/test_rate_limits_across_instances.py).

Usage: `python tests/app/portal_process.py FD`, with the Settings as JSON on stdin and FD a listening socket
inherited from the parent, so the parent can send requests as soon as the process is started (they wait in the
socket's backlog until uvicorn accepts them: no polling for readiness).
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from app.main import create_app
from app.settings import Settings


def main() -> None:
    settings = Settings.model_validate_json(sys.stdin.read())
    listening = socket.socket(fileno=int(sys.argv[1]))
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[listening])


if __name__ == "__main__":
    main()
