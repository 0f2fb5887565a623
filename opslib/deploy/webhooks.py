"""Payments webhook signature failures before vs after the deploy (payment_webhook_logs).

A secret rotated or a verification change shipped with the release shows up as signature
failures (§3-A 트리아지 3). Toss payment events are unsigned (signature_valid NULL): they are
deliveries, never failures. One finding per provider with deliveries after the deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.deploy.changes import Deployment
from opslib.deploy.comparison import Counts, judge_rate
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import pct
from opslib.results import Finding

CHECK = "deploy.signature_failures"


@dataclass(frozen=True)
class SignatureComparison:
    table: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)


def compare_signatures(conn: Connection, deployment: Deployment) -> SignatureComparison:
    if deployment.before is None or deployment.after is None or deployment.deploy_at is None:
        return SignatureComparison(pd.DataFrame(), ())
    got = fetch(
        conn,
        "deploy.webhook_signatures",
        {"since": deployment.before.since, "deploy_at": deployment.deploy_at, "until": deployment.after.until},
    )
    if not got.ok:
        return SignatureComparison(pd.DataFrame(), (checks.error(checks.get(CHECK), got.error or ""),), timings(got))
    return SignatureComparison(table(got.frame), tuple(judge_signatures(got.frame)), timings(got))


def judge_signatures(frame: pd.DataFrame) -> list[Finding]:
    check = checks.get(CHECK)
    if frame.empty:
        return [checks.evaluate(check, None, detail="webhook 수신 없음 (no webhook delivery in either window)")]
    out = []
    for provider, rows in frame.groupby("provider", sort=True):
        before, after = rows[rows["period"] == "before"], rows[rows["period"] == "after"]
        signed_after = int(after["deliveries"].sum() - after["unsigned"].sum())
        signed_before = int(before["deliveries"].sum() - before["unsigned"].sum())
        if signed_after <= 0:
            out.append(
                checks.evaluate(
                    check,
                    None,
                    subject=str(provider),
                    detail="배포 후 서명 검증 대상 webhook 없음 (no signed delivery after the deploy; Toss payment "
                    "events are unsigned)",
                )
            )
            continue
        a = Counts(int(after["signature_failures"].sum()), signed_after)
        b = Counts(int(before["signature_failures"].sum()), max(signed_before, 0))
        out.append(judge_rate(CHECK, a, b, subject=str(provider), detail="→ §3-A 트리아지 3 (opsbook run payments)"))
    return out


def table(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame()
    return pd.DataFrame(
        [
            {
                "provider": r["provider"],
                "period": "배포 전 (before)" if r["period"] == "before" else "배포 후 (after)",
                "deliveries": int(r["deliveries"]),
                "unsigned (Toss)": int(r["unsigned"]),
                "signature failures": int(r["signature_failures"]),
                "failure %": pct(int(r["signature_failures"]), int(r["deliveries"]) - int(r["unsigned"])),
            }
            for _, r in frame.iterrows()
        ]
    )
