"""`nexk infra rehearse --stack NAME`: a stack's whole lifecycle, offline, in the order ops live it.

The real program and the real providers run against the vendor simulators (`supabase_sim`, `brevo_sim`) through
the rehearsal engine (`engine.py`); each phase prints the steps the engine took. The phases are those of
docs/ops.md, "First deployment of a new stack":

1. first `pulumi up` from nothing, with the faults a real first run meets (a create the vendor committed before
   answering 5xx, a dropped connection, bursts of 429): no duplicate is left, waits end at the vendor's reset;
2. ops publish the exported DNS records at the zone's owner and read the sender's validation code;
3. second `pulumi up`: Brevo authenticates the domain, the sender is validated;
4. `pulumi up` again: nothing changes (no perpetual diff);
5. a changed setting (`jwtExpirySeconds`): an update in place, never a replacement;
6. changes made in the vendors' dashboards: `pulumi refresh` reports them as drift, `pulumi up` restores the code;
7. `pulumi destroy`: dev and staging are removed at the vendors; prod is refused (its project is protected).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.mocks import stack_config
from infra.providers.http import using_clock
from infra.providers.transport import routed_to
from infra.rehearsal.brevo_sim import BrevoSimulator
from infra.rehearsal.engine import Engine, RehearsalError, Step
from infra.rehearsal.supabase_sim import SupabaseSimulator
from infra.settings import NAMESPACE

CHANGED_JWT_EXPIRY = 1800
TOKEN_KEYS = ("supabaseAccessToken", "brevoApiKey")


@dataclass
class Phase:
    title: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what the vendors held at the end of the phase

    def ops(self, op: str) -> list[Step]:
        return [s for s in self.steps if s.op == op]

    def of_type(self, short_type: str) -> list[Step]:
        return [s for s in self.steps if s.type == short_type]


@dataclass
class Rehearsal:
    """What happened, phase by phase, plus the simulators' final state for the caller to check."""

    stack: str
    phases: list[Phase]
    supabase: SupabaseSimulator
    brevo: BrevoSimulator
    engine: Engine

    def phase(self, number: int) -> Phase:
        return self.phases[number - 1]


class _Printer:
    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.phases: list[Phase] = []

    def start(self, title: str) -> Phase:
        phase = Phase(title)
        self.phases.append(phase)
        self.echo("")
        self.echo(f"== {len(self.phases)}. {title}")
        return phase

    def step(self, step: Step) -> None:
        if step.op != "same":
            self.echo(f"   {step.line()}")

    def note(self, phase: Phase, text: str) -> None:
        phase.notes.append(text)
        self.echo(f"   -> {text}")


@contextmanager
def simulated(supabase: SupabaseSimulator, brevo: BrevoSimulator) -> Iterator[None]:
    """Route both vendors to their simulators; the providers' waits advance the simulators' clocks."""
    with ExitStack() as stack:
        stack.enter_context(routed_to(requests_routes=supabase.routes))
        stack.enter_context(using_clock(supabase.clock))
        stack.enter_context(brevo.installed())
        yield


def rehearse(
    stack: str,
    *,
    database_url: str | None = None,
    echo: Callable[[str], None] = print,
) -> Rehearsal:
    """Run the seven phases for `stack`; raises RehearsalError (or AssertionError-free `SystemExit`) on failure."""
    config, secret_keys, _missing = stack_config(stack)
    # The simulators accept any token; the providers read theirs from stack config as in a real run.
    for key in TOKEN_KEYS:
        config.setdefault(f"{NAMESPACE}:{key}", f"rehearsal-{key}")
        secret_keys.add(f"{NAMESPACE}:{key}")
    out = _Printer(echo)
    engine = Engine(stack, config, secret_keys, on_step=out.step, database_url=database_url)
    settings = engine.settings()
    supabase = SupabaseSimulator(organizations=(settings.supabase.organization_slug,))
    brevo = BrevoSimulator()

    def up(phase: Phase) -> None:
        phase.steps.extend(engine.up())

    with simulated(supabase, brevo):
        # 1. First up, with the faults of a real first run.
        phase = out.start(
            "first `pulumi up` from nothing (with a 5xx after a committed create, a dropped "
            "connection and a used-up rate-limit window)"
        )
        supabase.fail_after_commit("POST", "/v1/projects")
        supabase.exhaust_rate_limit()
        brevo.fail_next("POST", "smtp/templates", "5xx_after_commit")
        brevo.fail_next("POST", "webhooks", "drop_after_commit")
        brevo.rate_limit_burst(2, reset_seconds=30)
        supabase_waited, brevo_waited = supabase.clock.now, brevo.clock.now
        up(phase)
        projects = supabase.project_named(settings.supabase.project_name)
        phase.facts.update(
            projects=len(projects),
            project_creates=[
                c.status for c in supabase.calls if (c.method, c.path) == ("POST", "/v1/projects")
            ],
            rate_limited=sum(c.status == 429 for c in supabase.calls),
            templates=len(brevo.templates),
            webhooks=len(brevo.webhooks),
            supabase_waited=supabase.clock.now - supabase_waited,
            brevo_waited=brevo.clock.now - brevo_waited,
        )
        out.note(phase, f"Supabase projects named {settings.supabase.project_name}: {len(projects)}")
        out.note(phase, f"Brevo templates: {len(brevo.templates)}; webhooks: {len(brevo.webhooks)}")
        out.note(
            phase,
            f"virtual time waited: Supabase {phase.facts['supabase_waited']:.0f} s (provisioning, SSL "
            f"restart, network apply, 429 resets), Brevo {phase.facts['brevo_waited']:.0f} s",
        )
        outputs = engine.state.outputs
        out.note(phase, f"senderDomainAuthenticated = {outputs.get('senderDomainAuthenticated')}")
        for record in outputs.get("dnsRecords") or []:
            out.note(phase, f"DNS to publish: {record['type']} {record['name']} = {record['value']}")

        # 2. Ops publish DNS and read the sender's code.
        phase = out.start("ops publish the exported DNS records and read the sender's validation code")
        brevo.publish_dns(settings.brevo.sender_domain)
        out.note(phase, f"published the Brevo records of {settings.brevo.sender_domain} at the zone's owner")
        sender_id = next(iter(brevo.senders))
        code = brevo.otp_for(sender_id)
        engine.config[f"{NAMESPACE}:brevoSenderOtp"] = code
        engine.secret_keys.add(f"{NAMESPACE}:brevoSenderOtp")
        out.note(phase, "pulumi config set --secret brevoSenderOtp <the code e-mailed to the sender address>")

        # 3. Second up authenticates and validates.
        phase = out.start("second `pulumi up`: the domain is authenticated, the sender validated")
        up(phase)
        out.note(
            phase, f"senderDomainAuthenticated = {engine.state.outputs.get('senderDomainAuthenticated')}"
        )
        out.note(phase, f"senderActive = {engine.state.outputs.get('senderActive')}")

        # 4. Nothing changes.
        phase = out.start("`pulumi up` again: no changes")
        up(phase)
        changed = [s for s in phase.steps if s.op not in ("same",)]
        out.note(
            phase, f"{len(phase.steps)} resources unchanged" if not changed else f"{len(changed)} changed"
        )

        # 5. A changed setting.
        phase = out.start(
            f"a changed setting (supabase.jwtExpirySeconds -> {CHANGED_JWT_EXPIRY}): update in place"
        )
        section = copy.deepcopy(engine.config[f"{NAMESPACE}:supabase"])
        section["jwtExpirySeconds"] = CHANGED_JWT_EXPIRY
        engine.config[f"{NAMESPACE}:supabase"] = section
        up(phase)

        # 6. Drift.
        phase = out.start(
            "changes made in the dashboards: `pulumi refresh` shows drift, `pulumi up` restores"
        )
        ref = outputs["supabaseProjectRef"]
        supabase.dashboard_resize(ref, "medium")
        template_id = next(iter(brevo.templates))
        phase.facts["original_subject"] = brevo.templates[template_id]["subject"]
        brevo.edit_template_in_ui(template_id, subject="Edited in Brevo's editor")
        out.note(phase, "Supabase dashboard: compute resized to medium; Brevo: a template's subject edited")
        phase.steps.extend(engine.refresh())
        up(phase)
        phase.facts.update(
            instance_size=supabase.project(ref).compute,
            template_subject=brevo.templates[template_id]["subject"],
        )

        # 7. Destroy.
        phase = out.start("`pulumi destroy`")
        try:
            phase.steps.extend(engine.destroy())
        except RehearsalError as refused:
            out.note(phase, f"refused: {refused}")
        finally:
            phase.facts.update(
                projects=len(supabase.projects),
                templates=len(brevo.templates),
                webhooks=len(brevo.webhooks),
                senders=len(brevo.senders),
                domains=len(brevo.domains),
            )
        if phase.steps:
            out.note(
                phase,
                f"left at the vendors: {len(supabase.projects)} Supabase project(s), "
                f"{len(brevo.templates)} Brevo template(s), {len(brevo.webhooks)} webhook(s)",
            )
    return Rehearsal(stack=stack, phases=out.phases, supabase=supabase, brevo=brevo, engine=engine)


def summary(rehearsal: Rehearsal) -> dict[str, Any]:
    """Counts per phase and operation, for `--json` and the tests."""
    return {
        "stack": rehearsal.stack,
        "phases": [
            {
                "title": phase.title,
                "operations": {op: len(phase.ops(op)) for op in sorted({s.op for s in phase.steps})},
                "notes": phase.notes,
            }
            for phase in rehearsal.phases
        ],
    }
