"""Runbook §3-E 복구: ops-manage errors next to recent deploys, migrations and policy state.

The contract keeps no migration history (supabase_migrations is not in it): what it lets us see
is the deployment version of every invocation, what CI and the console recorded in ops_audit_log,
and the policies in the catalog now, compared with the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.admin.detection import BUCKET, FAILED_CLASSES
from opslib.admin.settings import settings
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding
from opslib.timewindow import Window

CHANGE_LOOKBACK = timedelta(hours=24)
MIGRATION_GATE = (
    "마이그레이션 게이트: `opsbook lint-migrations` (OPS_RUNBOOK §5 / migrations.md; 아직 opsbook에 없으면 "
    "migrations.md의 수동 검토 절차로) 롤백 마이그레이션도 같은 게이트를 통과해야 합니다."
)


@dataclass(frozen=True)
class Recovery:
    timeline: pd.DataFrame  # bucket_start (KST), failures (5xx/401/no status), invocations
    changes: pd.DataFrame  # ops_audit_log deploys/migrations/policy changes in the last 24 h
    policies: pd.DataFrame  # the contract's admin policies: present or missing
    sentence: str
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def recovery(conn: Connection, window: Window) -> Recovery:
    conf = settings()
    status = fetch(conn, "admin.ops_manage_status", {**window.params(), "bucket": BUCKET})
    changes = fetch(conn, "admin.change_events", {"since": window.until - CHANGE_LOOKBACK, "until": window.until})
    schemas = [s for s, _t, _p in conf.admin_policies]
    tables = [t for _s, t, _p in conf.admin_policies]
    policies = fetch(conn, "admin.admin_policies", {"schemas": schemas, "tables": tables})
    compared = compare_policies(policies.frame, conf.admin_policies)
    check = checks.get("admin.policies_missing")
    if policies.ok:
        missing = compared[~compared["present"]]
        detail = (
            "없는 정책: " + ", ".join(f"{r.table} · {r.policy}" for r in missing.itertuples(index=False))
            if len(missing)
            else "계약의 관리자 정책이 모두 있음 (every contract admin policy is present)"
        )
        finding = checks.evaluate(check, len(missing), detail=detail, evidence=evidence(missing))
    else:
        finding = checks.error(check, policies.error or "")
    timeline = failure_timeline(status.frame)
    return Recovery(
        timeline=for_display(timeline),
        changes=for_display(changes.frame),
        policies=compared,
        sentence=sentence(timeline, changes.frame, compared),
        findings=(finding,),
        timings=timings(status, changes, policies),
    )


def compare_policies(found: pd.DataFrame, expected: tuple[tuple[str, str, str], ...]) -> pd.DataFrame:
    have = set()
    if not found.empty:
        have = {
            (str(s), str(t), str(p))
            for s, t, p in zip(found["schemaname"], found["tablename"], found["policyname"], strict=True)
        }
    rows = [{"table": f"{s}.{t}", "policy": p, "present": (s, t, p) in have} for s, t, p in expected]
    return pd.DataFrame(rows, columns=["table", "policy", "present"])


def failure_timeline(status: pd.DataFrame) -> pd.DataFrame:
    """Per 5 minutes: calls, failures (5xx, 401, no answer) and refusals (403, 429: admins turned away)."""
    cols = ["bucket_start", "invocations", "failures", "refused"]
    if status.empty:
        return pd.DataFrame(columns=cols)
    s = status.assign(
        failed=status["status_class"].isin((*FAILED_CLASSES, "401")) * status["invocations"],
        turned=status["status_class"].isin(("403", "429")) * status["invocations"],
    )
    out = s.groupby("bucket_start", as_index=False).agg(
        invocations=("invocations", "sum"), failures=("failed", "sum"), refused=("turned", "sum")
    )
    return out[cols]


def sentence(timeline: pd.DataFrame, changes: pd.DataFrame, policies: pd.DataFrame) -> str:
    parts = []
    # one refusal is someone without the right; refusals filling a bucket are admins turned away
    failing = timeline[(timeline["failures"] > 0) | (timeline["refused"] >= 2)] if not timeline.empty else timeline
    if len(failing):
        first = pd.to_datetime(failing["bucket_start"], utc=True).min()
        before = changes
        if not changes.empty:
            at = pd.to_datetime(changes["occurred_at"], utc=True)
            before = changes[at <= first + BUCKET]
        if len(before):
            last = before.iloc[-1]
            parts.append(
                f"첫 실패 직전의 변경: {last['action']} · {last['target_id'] or last['target_type'] or ''} "
                "(아래 표): 이 변경의 롤백부터 검토하세요"
            )
        else:
            parts.append(
                "첫 실패 전 24시간에 기록된 배포/마이그레이션이 없습니다 (nothing recorded before the first failure)"
            )
    else:
        parts.append("창 안에 ops-manage 실패가 없습니다 (no failures to roll back)")
    missing = policies[~policies["present"]] if not policies.empty else policies
    if len(missing):
        parts.append(f"계약의 관리자 정책 {len(missing)}개가 없습니다: 정책 복원 마이그레이션 필요")
    parts.append(MIGRATION_GATE)
    return " · ".join(parts)
