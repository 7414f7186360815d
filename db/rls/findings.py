"""What a lint reports: the rule catalogue, one finding per problem, and the documented allow-list.

Every rule lives in RULES so the CLI help, the JSON output and the tests share one list of ids, levels and
fix hints. Rule ids `0001`..`0029` are Supabase splinter's numbers (same meaning, so a reviewer can read the
Supabase advisor docs); `nexk_*` rules are this project's own.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from nexk.errors import NexkError


class Level(enum.StrEnum):
    ERROR = "ERROR"  # a security hole: fails the lint
    WARN = "WARN"  # a performance trap the project refuses to ship: fails the lint
    INFO = "INFO"  # worth knowing, printed, never fails


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: Level
    hint: str

    @property
    def label(self) -> str:
        """`0013 rls_disabled_in_public`; this project's ids already contain the name."""
        return self.id if self.id.endswith(self.name) else f"{self.id} {self.name}"


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


E, W, I = Level.ERROR, Level.WARN, Level.INFO  # noqa: E741 (I reads as INFO in the table below)

RULES = _rules(
    Rule("0001", "unindexed_foreign_keys", I, "create an index whose leading columns are the foreign key"),
    Rule(
        "0002",
        "auth_users_exposed",
        E,
        "do not expose auth.users through a view in an API schema: move the view to a private schema",
    ),
    Rule(
        "0003",
        "auth_rls_initplan",
        W,
        "wrap the call in a scalar subselect, e.g. `(select auth.uid())`, so it runs once per statement",
    ),
    Rule(
        "0006",
        "multiple_permissive_policies",
        W,
        "merge the permissive policies for this role and command into one (or make the extra one restrictive)",
    ),
    Rule("0007", "policy_exists_rls_disabled", E, "`alter table ... enable row level security`"),
    Rule(
        "0008", "rls_enabled_no_policy", I, "add policies, or document that the table is deny-all on purpose"
    ),
    Rule(
        "0010",
        "security_definer_view",
        E,
        "create the view `with (security_invoker = true)` so the caller's RLS applies",
    ),
    Rule(
        "0011", "function_search_path_mutable", E, "add `set search_path = ''` and schema-qualify every name"
    ),
    Rule("0013", "rls_disabled_in_public", E, "`alter table ... enable row level security` (and force it)"),
    Rule("0014", "extension_in_public", E, "install the extension `with schema extensions`"),
    Rule(
        "0015",
        "rls_references_user_metadata",
        E,
        "users can edit user_metadata: authorize on app_metadata or on a table instead",
    ),
    Rule(
        "0016",
        "materialized_view_in_api",
        E,
        "move the materialized view out of the API schema or revoke select from anon and authenticated",
    ),
    Rule(
        "0017",
        "foreign_table_in_api",
        E,
        "move the foreign table out of the API schema or revoke select from anon and authenticated",
    ),
    Rule(
        "0021",
        "fkey_to_auth_unique",
        E,
        "reference the primary key of the auth table (auth.users.id), not a unique column",
    ),
    Rule(
        "0023",
        "sensitive_columns_exposed",
        E,
        "enable RLS on the table, or move the sensitive columns out of the API schema",
    ),
    Rule(
        "0024",
        "rls_policy_always_true",
        E,
        "replace the constant with the tenant/role guard the command needs",
    ),
    Rule(
        "0025",
        "public_bucket_allows_listing",
        E,
        "public buckets serve object URLs without a SELECT policy: drop the broad policy or narrow it",
    ),
    Rule(
        "0028",
        "anon_security_definer_function_executable",
        E,
        "move the function to schema private, or `revoke execute ... from anon, public`",
    ),
    Rule(
        "0029",
        "authenticated_security_definer_function_executable",
        E,
        "move the function to schema private, or `revoke execute ... from authenticated, public`",
    ),
    Rule(
        "nexk_rls_not_forced",
        "rls_not_forced",
        E,
        "`alter table ... force row level security` so the table owner is subject to RLS too",
    ),
    Rule("nexk_grant_without_policy", "grant_without_policy", E, "revoke the grant or add a policy"),
    Rule("nexk_anon_grant_without_policy", "anon_grant_without_policy", E, "revoke the grants from anon"),
    Rule(
        "nexk_missing_mfa_policy",
        "missing_mfa_policy",
        E,
        "add `as restrictive for all to authenticated using (not private.is_agent() "
        "or (select auth.jwt()->>'aal') = 'aal2')` (staff need aal2)",
    ),
    Rule(
        "nexk_policy_column_unindexed",
        "policy_column_unindexed",
        W,
        "create an index on the table whose leading column is this column",
    ),
    Rule(
        "nexk_unwrapped_function_call",
        "unwrapped_function_call",
        W,
        "wrap the call in a scalar subselect, e.g. `(select private.is_admin())`: it reads no column",
    ),
    Rule(
        "nexk_policy_to_public",
        "policy_to_public",
        E,
        "name the roles: `to authenticated` (public includes anon)",
    ),
    Rule(
        "nexk_policy_without_check",
        "policy_without_check",
        E,
        "repeat the tenant guard in `with check (...)`: permissive CHECKs are OR'ed across policies",
    ),
    Rule(
        "nexk_subquery_unqualified_column",
        "subquery_unqualified_column",
        E,
        "qualify the column with its table alias: an unqualified name may bind to the inner table",
    ),
    Rule(
        "nexk_api_role_table_privilege",
        "api_role_table_privilege",
        E,
        "revoke TRIGGER, TRUNCATE, REFERENCES and MAINTAIN from anon, authenticated (and PUBLIC) in a migration",
    ),
    Rule(
        "nexk_api_role_temp",
        "api_role_temp",
        E,
        "revoke TEMPORARY on the database from PUBLIC, anon and authenticated in a migration",
    ),
    Rule(
        "nexk_portal_login_reach",
        "portal_login_reach",
        E,
        "revoke the chain's first membership from nexk_portal: it may reach anon and authenticated only",
    ),
    Rule(
        "nexk_definer_function_exposed",
        "definer_function_exposed",
        E,
        "put security definer helpers in schema private (not exposed through /rpc)",
    ),
)


@dataclass(frozen=True)
class Finding:
    rule: str  # an id of RULES
    where: str  # `db/policies/tickets.sql:12` for the static lint, the object for the catalog lint
    object: (
        str  # the database object (`public.tickets`, `public.tickets policy "x"`): what the allow-list names
    )
    message: str
    hint: str = ""  # defaults to the rule's hint

    @property
    def level(self) -> Level:
        return RULES[self.rule].level

    @property
    def name(self) -> str:
        return RULES[self.rule].name

    @property
    def fix(self) -> str:
        return self.hint or RULES[self.rule].hint


def finding(rule: str, where: str, message: str, *, object: str | None = None, hint: str = "") -> Finding:
    return Finding(rule=rule, where=where, object=object or where, message=message, hint=hint)


@dataclass(frozen=True)
class Allowance:
    rule: str  # a rule id or name
    object: str  # the object, shell-style wildcards allowed (`public.audit_log*`)
    reason: str

    def covers(self, item: Finding) -> bool:
        return self.rule in (item.rule, item.name) and fnmatch.fnmatchcase(item.object, self.object)


@dataclass(frozen=True)
class Reported:
    """A finding as printed: `allowed` holds the allow-list's reason when an entry covers it."""

    finding: Finding
    allowed: str | None = None

    @property
    def fails(self) -> bool:
        return self.allowed is None and self.finding.level in (Level.ERROR, Level.WARN)

    def as_dict(self) -> dict[str, object]:
        item = self.finding
        return {
            **asdict(item),
            "name": item.name,
            "level": str(item.level),
            "hint": item.fix,
            "allowed": self.allowed,
            "fails": self.fails,
        }


ALLOW_FILE = Path(__file__).with_name("lint-allow.yaml")


def load_allow_list(path: Path = ALLOW_FILE) -> list[Allowance]:
    """Read the allow-list; every entry must say which rule, which object and why (no silent exceptions)."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("allow") or [] if isinstance(data, dict) else data
    allowances = []
    for number, entry in enumerate(entries, start=1):
        missing = [
            key for key in ("rule", "object", "reason") if not str((entry or {}).get(key) or "").strip()
        ]
        if missing:
            raise NexkError(
                f"{path}: entry {number} lacks {', '.join(missing)}: each exception names rule, object, reason."
            )
        rule = str(entry["rule"])
        if rule not in RULES and rule not in {r.name for r in RULES.values()}:
            raise NexkError(
                f"{path}: entry {number} names unknown rule {rule!r} (see `nexk rls lint --help`)."
            )
        allowances.append(
            Allowance(rule=rule, object=str(entry["object"]), reason=str(entry["reason"]).strip())
        )
    return allowances


def apply_allow_list(found: list[Finding], allowances: list[Allowance]) -> list[Reported]:
    """Pair each finding with the reason that allows it, if any; nothing is dropped."""
    reported = []
    for item in found:
        reason = next((a.reason for a in allowances if a.covers(item)), None)
        reported.append(Reported(item, reason))
    order = {Level.ERROR: 0, Level.WARN: 1, Level.INFO: 2}
    return sorted(
        reported, key=lambda r: (r.allowed is not None, order[r.finding.level], _place(r.finding.where))
    )


def _place(where: str) -> tuple[str, int]:
    """Sort `file.sql:9` before `file.sql:10`."""
    path, _, line = where.rpartition(":")
    return (path, int(line)) if line.isdigit() else (where, 0)
