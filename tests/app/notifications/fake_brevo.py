"""A fake Brevo on 127.0.0.1 (pytest-httpserver) with scripted faults, and the transport that injects them.

Each POST /v3/smtp/email consumes the next fault of `send_faults` (then `ok` forever):
- `ok`: accept, 201 {"messageId"};
- `http500`: refuse before accepting (500);
- `http500_after_accept`: accept the e-mail, then answer 500 (the client cannot know);
- `http429`: refuse with Retry-After;
- `timeout_after_accept`: accept, then hold the answer beyond the client's read timeout;
- `refused`: the connection is refused (the transport dials a closed port);
- `crash_after_accept`: accept and answer 201, then the worker "dies" before recording it.
Each GET /v3/smtp/statistics/events consumes the next of `lookup_faults` (`ok` or `http500`).
`honour_idempotency` is off by default: the proof must hold even if Brevo's idempotency key has expired.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

import httpx
from werkzeug import Request, Response

SEND_FAULTS = (
    "ok",
    "http500",
    "http500_after_accept",
    "http429",
    "timeout_after_accept",
    "refused",
    "crash_after_accept",
)


class WorkerCrashError(Exception):
    """The worker process died right after Brevo accepted an e-mail."""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class FakeBrevo:
    honour_idempotency: bool = False
    send_faults: deque[str] = field(default_factory=deque)
    lookup_faults: deque[str] = field(default_factory=deque)
    accepted: Counter[str] = field(default_factory=Counter)  # outbox id -> e-mails actually sent
    requests: Counter[str] = field(default_factory=Counter)  # outbox id -> POSTs received
    tags: dict[str, str] = field(default_factory=dict)  # tag -> message id
    seen_keys: dict[str, str] = field(default_factory=dict)
    bodies: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, send_faults: list[str], lookup_faults: list[str]) -> None:
        with self.lock:
            self.send_faults = deque(send_faults)
            self.lookup_faults = deque(lookup_faults)
            self.accepted.clear()
            self.requests.clear()
            self.tags.clear()
            self.seen_keys.clear()
            self.bodies.clear()

    def next_send_fault(self) -> str:
        with self.lock:
            return self.send_faults.popleft() if self.send_faults else "ok"

    def _accept(self, body: dict) -> str:
        key = body["headers"]["idempotencyKey"]
        if self.honour_idempotency and key in self.seen_keys:
            return self.seen_keys[key]
        message_id = f"<{uuid.uuid4().hex}@smtp-relay.fake>"
        self.accepted[key] += 1
        self.seen_keys[key] = message_id
        self.tags[body["tags"][0]] = message_id
        self.bodies.append(body)
        return message_id

    def send_handler(self, request: Request) -> Response:
        assert request.headers.get("api-key") == "test-key"
        body = json.loads(request.data)
        fault = request.headers.get("x-fault", "ok")
        with self.lock:
            self.requests[body["headers"]["idempotencyKey"]] += 1
            if fault in ("http500", "http429"):
                status = 500 if fault == "http500" else 429
                headers = {"Retry-After": "120"} if fault == "http429" else {}
                return Response(
                    json.dumps({"code": "fault", "message": fault}),
                    status,
                    headers,
                    content_type="application/json",
                )
            message_id = self._accept(body)
        if fault == "http500_after_accept":
            return Response('{"message": "internal error"}', 500, content_type="application/json")
        if fault == "timeout_after_accept":
            self.release.wait(5)  # freed as soon as the client has given up
            self.release.clear()
        return Response(json.dumps({"messageId": message_id}), 201, content_type="application/json")

    def events_handler(self, request: Request) -> Response:
        with self.lock:
            fault = self.lookup_faults.popleft() if self.lookup_faults else "ok"
            if fault == "http500":
                return Response('{"message": "events unavailable"}', 500, content_type="application/json")
            wanted = json.loads(request.args["tags"])
            events = [
                {
                    "email": request.args.get("email"),
                    "event": "requests",
                    "tag": tag,
                    "messageId": self.tags[tag],
                }
                for tag in wanted
                if tag in self.tags
            ]
        return Response(json.dumps({"events": events}), 200, content_type="application/json")


class FaultTransport(httpx.BaseTransport):
    """Real HTTP to the fake; decides each send's fault and turns `refused` into a real refused connection."""

    def __init__(self, fake: FakeBrevo) -> None:
        self.fake = fake
        self.inner = httpx.HTTPTransport()
        self.dead_port = closed_port()
        self.crash_next = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return self.inner.handle_request(request)
        fault = self.fake.next_send_fault()
        if fault == "refused":
            request.url = request.url.copy_with(port=self.dead_port)
            return self.inner.handle_request(request)
        request.headers["x-fault"] = fault
        try:
            response = self.inner.handle_request(request)
        except httpx.TimeoutException:
            self.fake.release.set()
            raise
        self.crash_next = fault == "crash_after_accept"
        return response

    def close(self) -> None:
        self.inner.close()
