"""The only code that writes: runbook mitigations as guarded, audited, idempotent actions.

Every action is a dry-run unless `confirm` repeats the action's name. A dry-run reads
the current state and shows the exact before/after and the audit row it would write;
it never opens a writable transaction. A confirmed run locks the row, changes it and
writes its `admin_audit_log` row in one transaction, and changes nothing when the
target is already in the wanted state (idempotent). Actions connect with their own
credentials ($OPSBOOK_ACTION_DATABASE_URL), never the pages' read-only role.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from opslib import db, queries
from opslib.errors import ActionRefused
from opslib.results import Mitigation


@dataclass(frozen=True)
class ActionRequest:
    """Who asks for what and why: goes into the audit row."""

    reason: str = ""
    wi_id: str = ""
    operator: str = ""  # admin auth.users id (uuid) or a name
    undo: bool = False
    target: str = ""  # what the action acts on, when it is not fixed (cron: the job name)
    # An action's own inputs as (name, value) pairs, e.g. (("lock_age_minutes", 10),): hashable,
    # so a page's dry-run can be prefetched and matched like any other step.
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any) -> Any:
        return dict(self.options).get(name, default)

    @property
    def operator_uuid(self) -> str:
        try:
            return str(uuid.UUID(self.operator))
        except ValueError:
            return ""

    def note(self) -> dict[str, str]:
        return {
            "reason": self.reason,
            "wi_id": self.wi_id,
            "operator": self.operator,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "via": "opsbook",
        }

    def audit_reason(self, default: str) -> str:
        parts = [self.reason or default]
        if self.wi_id:
            parts.append(f"WI {self.wi_id}")
        if self.operator and not self.operator_uuid:
            parts.append(f"by {self.operator}")
        return " · ".join(parts)


@dataclass(frozen=True)
class ActionOutcome:
    """What an action did (or, dry-run, would do)."""

    name: str
    target: str
    executed: bool
    changed: bool
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    audit_rows: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    message: str = ""
    command: str = ""  # a dry-run's exact `opsbook action ...` line (set by dry_run)

    @property
    def mitigation(self) -> Mitigation | None:
        """A dry-run is the page's "what to do now" (Page.measure lists it on the verdict banner)."""
        if self.executed or not self.command:
            return None
        return Mitigation(self.name, LABELS.get(self.name, self.name), self.command, self.changed, self.message)

    def describe(self) -> str:
        mode = "EXECUTED" if self.executed else "DRY-RUN (nothing written)"
        lines = [f"{self.name} · {self.target} · {mode}", self.message]
        if self.before is not None or self.after is not None:
            keys = sorted(set(self.before or {}) | set(self.after or {}))
            for k in keys:
                b = (self.before or {}).get(k)
                a = (self.after or {}).get(k)
                mark = "→" if b != a else "="
                lines.append(f"  {k}: {_short(b)} {mark} {_short(a)}")
        for row in self.audit_rows:
            lines.append(
                f"  audit: admin_audit_log {row.get('action')} on {row.get('target_type')}/{row.get('target_id')}"
            )
        return "\n".join(line for line in lines if line)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 120 else text[:117] + "..."


# An action must not wait behind a stuck transaction at 3 a.m.: fail fast and say so.
ACTION_TIMEOUTS = db.Timeouts(statement_ms=10_000, lock_ms=3_000, idle_in_transaction_ms=30_000)


@contextmanager
def writable(database_url: str | None) -> Iterator[Connection]:
    """One read-write transaction on the action credentials, with short timeouts."""
    conn = db.connect(db.resolve_url(database_url, action=True))
    try:
        with conn.begin():
            db.set_local(conn, "opsbook/action", ACTION_TIMEOUTS)
            yield conn
    finally:
        conn.close()


@contextmanager
def readable(database_url: str | None) -> Iterator[Connection]:
    url = db.resolve_url(database_url, action=True)
    with db.read_only(url, "action-dry-run") as conn:
        yield conn


def set_claims(conn: Connection, request: ActionRequest) -> None:
    """auth.uid() in the contract's audit trigger reads the JWT claims: name the operator."""
    if request.operator_uuid:
        claims = json.dumps({"sub": request.operator_uuid, "role": "service_role"})
        conn.execute(sa.text("SELECT set_config('request.jwt.claims', :c, true)"), {"c": claims})


def audit_rows(conn: Connection, target_type: str, target_id: str) -> tuple[dict[str, Any], ...]:
    frame = queries.run(conn, "actions.audit_rows_in_tx", {"target_type": target_type, "target_id": target_id}).frame
    return tuple(frame.to_dict("records"))


def require_confirmation(name: str, confirm: str | None) -> bool:
    """True to execute; False for a dry-run. A wrong confirmation is refused, not ignored."""
    if not confirm:
        return False
    if confirm != name:
        raise ActionRefused(f"confirmation {confirm!r} does not match the action name {name!r}; nothing was written")
    return True


# The runbook's words for each action, as the verdict banner lists it under "what to do now".
LABELS: dict[str, str] = {
    "payments-kill-switch": "신규 결제 CTA 차단 (payments kill switch)",
    "payments-maintenance-banner": '"일시 점검" 배너 표시 (maintenance banner)',
    "auth-login-notice": '긴급 공지 "로그인 점검 중" (login notice)',
    "messages-kill-switch": "스케줄 기능 임시 비활성 (scheduled-dispatch kill switch)",
    "messages-notice-banner": "즉시 발송 안내 배너 (send-now notice)",
    "trigger-scheduled-dispatcher": "scheduled-dispatcher 수동 트리거 (manual trigger)",
    "release-stuck-messages": "processing에 멈춘 메시지 해제 (release stuck messages)",
    "storage-bucket-private": "public 접근 제한 + signed URL 전환 (bucket to private)",
    "admin-publish-block": '"publish" 기능만 임시 차단 (publish-only block)',
    "admin-role-restore": "관리자 접근 복구 (restore an admin role)",
    "cron-run-job-once": "잡 수동 실행 (run a job once now)",
    "cron-pause-job": "잡 일시 중지/재개 (pause or resume a job)",
}


def command_line(name: str, request: ActionRequest) -> str:
    """The exact command that executes the action as requested (quoted for a POSIX shell)."""
    import shlex

    parts = ["opsbook", "action", name, "--confirm", name]
    if request.undo:
        parts.append("--undo")
    if request.target:
        parts += ["--target", request.target]
    for option, value in request.options:
        parts += ["-o", option, str(value)]
    if request.wi_id:
        parts += ["--wi", request.wi_id]
    if request.reason:
        parts += ["--reason", request.reason]
    return shlex.join(parts)


ACTIONS: dict[str, Callable[..., ActionOutcome]] = {}
PLANS: dict[str, Callable[[Connection, ActionRequest], ActionOutcome]] = {}


def register(
    name: str, plan: Callable[[Connection, ActionRequest], ActionOutcome]
) -> Callable[[Callable[..., ActionOutcome]], Callable[..., ActionOutcome]]:
    def deco(fn: Callable[..., ActionOutcome]) -> Callable[..., ActionOutcome]:
        ACTIONS[name] = fn
        PLANS[name] = plan
        return fn

    return deco


def _load() -> None:
    """Importing an action's module registers it."""
    from opslib.actions import (  # noqa: F401
        banner,
        cron_jobs,
        dispatcher_trigger,
        killswitch,
        publish_block,
        release_stuck,
        role_restore,
        storage_bucket,
    )


def dry_run(conn: Connection, name: str, **request: Any) -> ActionOutcome:
    """The plan of an action on an already-open (read-only) session: what a page shows, never writes."""
    _load()
    if name not in PLANS:
        raise ActionRefused(f"unknown action {name!r}: choose one of {', '.join(sorted(PLANS))}")
    wanted = ActionRequest(**request)
    return dataclasses.replace(PLANS[name](conn, wanted), command=command_line(name, wanted))


def perform(
    name: str,
    *,
    confirm: str | None = None,
    reason: str = "",
    wi_id: str = "",
    operator: str = "",
    undo: bool = False,
    database_url: str | None = None,
    target: str = "",
    options: Mapping[str, Any] | None = None,
) -> ActionOutcome:
    _load()
    if name not in ACTIONS:
        raise ActionRefused(f"unknown action {name!r}: choose one of {', '.join(sorted(ACTIONS))}")
    request = ActionRequest(
        reason=reason,
        wi_id=wi_id,
        operator=operator,
        undo=undo,
        target=target,
        options=tuple(sorted((options or {}).items())),
    )
    return ACTIONS[name](request, confirm=confirm, database_url=database_url)
