"""Runbook §3-C 트리아지 4: does row-level security keep fans from reading their messages?

The policies on messages, message_delivery and the message-media bucket compared with the
contract's (contract_policies.yaml), and what fans' reads actually got in the API gateway log:
401/403, and empty answers to fans who have inbox rows (a dropped read policy answers 200 []).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.measures import pct, total
from opslib.results import Finding
from opslib.timewindow import Window

TABLES = ("public.messages", "public.message_delivery", "storage.objects")


@dataclass(frozen=True)
class PolicyDiff:
    table: str
    policy: str
    change: str  # missing | added | changed
    detail: str
    fan_read: bool


@dataclass(frozen=True)
class RlsCheck:
    """Policies as they are vs the contract, and fans' reads in the gateway log."""

    window: Window
    policies: pd.DataFrame  # table, policy, cmd, roles, state (as contract / missing / added / changed)
    differences: tuple[PolicyDiff, ...]
    rls_off: tuple[str, ...]
    fan_reads: pd.DataFrame  # resource, requests, ok, unauthorized, forbidden, empty, empty_with_rows, ...
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def normalise(expr: str | None) -> str | None:
    """pg_policies' deparsed expression without layout: lower case, no whitespace or parentheses."""
    if not isinstance(expr, str):  # None, or NaN where pandas filled a missing expression
        return None
    return re.sub(r"[\s()]", "", expr.lower())


@cache
def contract_policies() -> tuple[dict[str, Any], ...]:
    text = (resources.files("opslib.messaging") / "contract_policies.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["policies"])


def compare(actual: pd.DataFrame) -> tuple[list[PolicyDiff], list[str], pd.DataFrame]:
    """Pure: differences between the database's policies and the contract's, and tables with RLS off."""
    expected = {(p["table"], p["name"]): p for p in contract_policies()}
    present: dict[tuple[str, str], dict[str, Any]] = {}
    rls_off: list[str] = []
    for r in actual.to_dict("records"):
        table = f"{r['schema_name']}.{r['table_name']}"
        if not r["rls_enabled"] and table not in rls_off:
            rls_off.append(table)
        if r.get("policyname") is not None and not pd.isna(r.get("policyname")):
            present[(table, r["policyname"])] = r
    diffs: list[PolicyDiff] = []
    listing = []
    for key, want in expected.items():
        have = present.get(key)
        if have is None:
            diffs.append(PolicyDiff(key[0], key[1], "missing", f"{want['cmd']} 정책 없음", bool(want["fan_read"])))
            listing.append({"table": key[0], "policy": key[1], "cmd": want["cmd"], "state": "없음 (missing)"})
            continue
        changes = []
        if have["cmd"] != want["cmd"]:
            changes.append(f"cmd {want['cmd']}→{have['cmd']}")
        if sorted(list(have["roles"] or [])) != sorted(want["roles"]):
            changes.append(f"roles {','.join(want['roles'])}→{','.join(have['roles'] or [])}")
        if have["permissive"] != want["permissive"]:
            changes.append(f"{want['permissive']}→{have['permissive']}")
        if normalise(have.get("using_expr")) != want["using"]:
            changes.append("USING 식 변경")
        if normalise(have.get("check_expr")) != want["check"]:
            changes.append("WITH CHECK 식 변경")
        state = "계약과 같음 (as contract)"
        if changes:
            diffs.append(PolicyDiff(key[0], key[1], "changed", ", ".join(changes), bool(want["fan_read"])))
            state = "변경 (changed): " + ", ".join(changes)
        listing.append({"table": key[0], "policy": key[1], "cmd": have["cmd"], "state": state})
    for key, have in present.items():
        if key not in expected:
            diffs.append(PolicyDiff(key[0], key[1], "added", f"계약에 없는 {have['cmd']} 정책", False))
            listing.append({"table": key[0], "policy": key[1], "cmd": have["cmd"], "state": "추가됨 (not in contract)"})
    return diffs, rls_off, pd.DataFrame(listing, columns=["table", "policy", "cmd", "state"])


def rls_check(conn: Connection, window: Window) -> RlsCheck:
    policies = fetch(conn, "messaging.policies", {})
    reads = fetch(conn, "messaging.fan_reads", window.params())
    findings: list[Finding] = []
    diffs: list[PolicyDiff] = []
    rls_off: list[str] = []
    listing = pd.DataFrame(columns=["table", "policy", "cmd", "state"])
    if policies.ok:
        diffs, rls_off, listing = compare(policies.frame)
        findings += policy_findings(diffs, rls_off)
    else:
        findings += [
            checks.error(checks.get("messaging.rls_policies"), policies.error or ""),
            checks.error(checks.get("messaging.rls_disabled"), policies.error or ""),
        ]
    findings += read_findings(reads)
    return RlsCheck(
        window=window,
        policies=listing,
        differences=tuple(diffs),
        rls_off=tuple(rls_off),
        fan_reads=for_display(reads.frame),
        findings=tuple(findings),
        timings=timings(policies, reads),
    )


def policy_findings(diffs: list[PolicyDiff], rls_off: list[str]) -> list[Finding]:
    policy = checks.get("messaging.rls_policies")
    disabled = checks.get("messaging.rls_disabled")
    fan = [d for d in diffs if d.fan_read]
    detail = (
        f"계약과 다른 정책 {len(diffs)}개" if diffs else "세 테이블의 정책이 계약과 같음 (policies as in the contract)"
    )
    if fan:
        detail += " · 팬 읽기 정책: " + "; ".join(f"{d.policy} ({d.change}: {d.detail})" for d in fan)
        detail += " → 팬이 메시지를 못 읽음 (fans cannot read)"
    others = [d for d in diffs if not d.fan_read]
    if others:
        detail += " · 그 밖: " + "; ".join(f"{d.policy} ({d.change})" for d in others)
    rows = [{"table": d.table, "policy": d.policy, "change": d.change, "detail": d.detail} for d in diffs]
    return [
        checks.evaluate(policy, len(diffs), detail=detail, evidence=tuple(rows)),
        checks.evaluate(
            disabled,
            len(rls_off),
            detail=("RLS 꺼짐: " + ", ".join(rls_off)) if rls_off else "세 테이블 모두 RLS 켜짐 (RLS on)",
        ),
    ]


def read_findings(reads: Fetched) -> list[Finding]:
    denied = checks.get("messaging.fan_reads_denied")
    empty = checks.get("messaging.fan_reads_empty")
    if not reads.ok:
        return [checks.error(denied, reads.error or ""), checks.error(empty, reads.error or "")]
    f = reads.frame
    requests = total(f, "requests")
    refused = total(f, "unauthorized") + total(f, "forbidden")
    rest = f[f["resource"].str.startswith("rest ")] if not f.empty else f
    answered = total(rest, "ok")
    sized = total(rest, "sized")
    hidden = total(rest, "empty_with_rows")
    out = [
        checks.evaluate(
            denied,
            pct(refused, requests),
            sample=requests,
            failures=refused,
            detail=f"팬 메시지 읽기 {requests}건 중 401 {total(f, 'unauthorized')} · 403 {total(f, 'forbidden')}"
            if requests
            else "edge_logs에 팬의 메시지 읽기 없음 (no fans' message reads drained)",
            evidence=evidence(f),
        )
    ]
    if not sized:
        out.append(
            checks.evaluate(
                empty,
                None,
                detail="드레인된 응답에 content_range/content_length 없음: 빈 응답 판단 불가 "
                "(the drain keeps no response headers: empty answers cannot be told)",
            )
        )
    else:
        out.append(
            checks.evaluate(
                empty,
                pct(hidden, sized),
                sample=sized,
                failures=hidden,
                detail=f"크기를 아는 응답 {sized}건 중 행이 있는 팬에게 빈 응답 {hidden}건 "
                f"(200 [] to fans who have inbox rows; answered {answered})",
                evidence=evidence(rest),
            )
        )
    return out
