"""The attempt limits hold across portal instances, as on Vercel where every function instance is its own
process: two real uvicorn processes on different ports share one PostgreSQL, attempts spread over both are
counted together (the limit trips at the same total as on one), and attempts racing on both at once never get
past a limit (exactly the limit is admitted)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from portal_testkit import PASSWORD, Person, World

from app.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("portal_process.py")


@pytest.fixture
def instances(portal_settings: Settings, world: World) -> Iterator[list[str]]:
    """Two portal processes (tests/app/portal_process.py) on two ports, over the same test database."""
    settings = portal_settings.model_copy(update={"pool_min_size": 1, "pool_max_size": 8}).model_dump_json()
    sockets, processes = [], []
    try:
        for _ in range(2):
            listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listening.bind(("127.0.0.1", 0))
            listening.listen(128)
            sockets.append(listening)
            process = subprocess.Popen(
                [sys.executable, str(CHILD), str(listening.fileno())],
                stdin=subprocess.PIPE,
                pass_fds=(listening.fileno(),),
                cwd=REPO_ROOT,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), "HOME": str(REPO_ROOT)},
                text=True,
            )
            assert process.stdin is not None
            process.stdin.write(settings)
            process.stdin.close()
            processes.append(process)
        yield [f"http://127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for listening in sockets:
            listening.close()


@pytest.fixture
def csrf(instances: list[str]) -> str:
    """One CSRF token for both instances: they share the session secret, as every Vercel instance does."""
    response = httpx.get(f"{instances[0]}/auth/sign-in", timeout=60)
    assert response.status_code == 200
    return response.cookies["nexk_csrf"]


def _sign_in(url: str, csrf: str, email: str, password: str, language: str = "en") -> httpx.Response:
    return httpx.post(
        f"{url}/auth/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf},
        cookies={"nexk_csrf": csrf},
        headers={"Accept-Language": language},
        follow_redirects=False,
        timeout=120,
    )


def _at_once(calls: list) -> list[int]:
    """Run every call in its own thread, released together by a barrier; their status codes."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []
    lock = threading.Lock()

    def run(call) -> None:
        barrier.wait()
        status = call().status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_attempts_on_one_account_spread_over_two_instances_are_counted_together(
    instances: list[str], csrf: str, world: World
) -> None:
    email = world.people["member_a"].email
    answers = [_sign_in(instances[n % 2], csrf, email, "wrong password", "fr-BE") for n in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    limited = answers[5]
    assert 0 < int(limited.headers["retry-after"]) <= 300
    assert "Trop de tentatives de connexion. Patientez 5 minutes et réessayez." in limited.text
    # The right password is refused too, on either instance, until the window ends.
    assert {_sign_in(url, csrf, email, PASSWORD).status_code for url in instances} == {429}


def test_failures_from_one_address_spread_over_two_instances_lock_it_at_twenty(
    instances: list[str], csrf: str, world: World
) -> None:
    failures = [
        _sign_in(instances[n % 2], csrf, f"guess{n}@example.test", "wrong").status_code for n in range(20)
    ]
    assert failures == [401] * 20  # one attempt per account: only the address limit can stop the next one
    member = world.people["member_a"]
    for url in instances:
        refused = _sign_in(url, csrf, member.email, PASSWORD, "nl-BE")
        assert refused.status_code == 429
        assert "Te veel aanmeldpogingen. Wacht" in refused.text


def test_thirty_good_sign_ins_from_one_address_over_two_instances_all_pass(
    instances: list[str], csrf: str, world: World
) -> None:
    colleagues = [world.person(f"colleague{n}_a", "client_member", "a") for n in range(30)]
    statuses = [
        _sign_in(instances[n % 2], csrf, p.email, PASSWORD).status_code for n, p in enumerate(colleagues)
    ]
    assert statuses == [303] * 30


def test_concurrent_attempts_on_one_account_over_two_instances_admit_exactly_five(
    instances: list[str], csrf: str, world: World
) -> None:
    """Invariant: 30 wrong passwords racing for one account on both instances: exactly 5 are tried (401)."""
    email = world.people["member_a"].email
    calls = [lambda url=instances[n % 2]: _sign_in(url, csrf, email, "wrong password") for n in range(30)]
    assert Counter(_at_once(calls)) == {401: 5, 429: 25}


def test_concurrent_failures_from_one_address_over_two_instances_admit_exactly_twenty(
    instances: list[str], csrf: str
) -> None:
    """Invariant: 36 guesses at different accounts racing from one address on both instances: exactly 20 are
    tried (401); no account limit applies (one attempt each), so only the address limit stops the rest."""
    calls = [
        lambda url=instances[n % 2], n=n: _sign_in(url, csrf, f"guess{n}@example.test", "wrong")
        for n in range(36)
    ]
    assert Counter(_at_once(calls)) == {401: 20, 429: 16}


def _staff_session(url: str, csrf: str, person: Person) -> tuple[httpx.Cookies, str]:
    """The cookies of a staff member past the password step, and the CSRF token bound to that session."""
    response = _sign_in(url, csrf, person.email, PASSWORD)
    assert response.status_code == 303 and response.headers["location"].startswith("/auth/mfa")
    cookies = httpx.Cookies(response.cookies)
    return cookies, cookies["nexk_csrf"]  # sign-in sets a new token, bound to the new session


def test_totp_codes_spread_over_two_instances_are_counted_together(
    instances: list[str], csrf: str, world: World
) -> None:
    agent = world.people["agent"]
    cookies, csrf = _staff_session(instances[0], csrf, agent)
    right = pyotp.TOTP(agent.totp_secret or "").now()
    wrong = "000000" if right != "000000" else "111111"

    def verify(url: str, code: str) -> httpx.Response:
        return httpx.post(
            f"{url}/auth/mfa",
            data={"code": code, "csrf_token": csrf},
            cookies=cookies,
            follow_redirects=False,
            timeout=120,
        )

    answers = [verify(instances[n % 2], wrong) for n in range(5)] + [verify(instances[1], right)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert 0 < int(answers[5].headers["retry-after"]) <= 300
    assert "Too many codes tried. Wait 5 minutes and try again." in answers[5].text
