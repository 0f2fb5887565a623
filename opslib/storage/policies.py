"""Runbook §3-D 트리아지 2: Storage 버킷 권한 확인 (Dashboard → Storage → Policies), against the contract.

The policies on storage.objects and storage.buckets and each bucket's public flag and limits
are compared with what opslib/contract ships: a dropped or changed policy is named; a bucket
the contract keeps private (or one the page is told holds personal media) that is public now
is the public-exposure risk, its own finding at P0 (데이터 유출).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence
from opslib.fetch import QueryTiming, fetch, timings
from opslib.results import Finding, Outcome
from opslib.storage.contract import BucketSpec, PolicySpec, expected_buckets, expected_policies, fingerprint


@dataclass(frozen=True)
class Policies:
    policies: pd.DataFrame  # table, policy, cmd, roles, state (ok/dropped/changed/added), difference
    buckets: pd.DataFrame  # bucket_id, public (now), public (contract), limits now/contract, state
    exposed: pd.DataFrame  # bucket_id, objects, bytes, newest_at, why
    rls_enabled: bool | None  # on storage.objects (None: unknown)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def ok(check: checks.Check, detail: str, subject: str | None = None) -> Finding:
    """A passed check whose rule flags any value at all (e.g. 'any dropped policy')."""
    return Finding(
        check=check.id,
        title=check.title,
        section=check.section,
        threshold=check.threshold_text(),
        subject=subject,
        unit=check.unit,
        outcome=Outcome.OK,
        value=0,
        detail=detail,
    )


def _roles(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.strip("{}").split(",")
    if not isinstance(value, Iterable):
        return ()
    return tuple(sorted(str(r).strip().strip('"').lower() for r in value if str(r).strip()))


def public_flag(value: object) -> bool:
    """storage.buckets.public is nullable: only a true flag serves objects publicly (NULL, NaN: not public)."""
    return value is True or (isinstance(value, np.bool_) and bool(value))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def compare_policies(live: pd.DataFrame, expected: Sequence[PolicySpec]) -> pd.DataFrame:
    """Pure: every contract policy and every live one, with its state and what differs."""
    rows = live[live["policyname"].notna()] if not live.empty else live
    found = {(str(r.table_name), str(r.policyname)): r for r in rows.itertuples(index=False)}
    records = []
    for spec in expected:
        r = found.pop((spec.table, spec.name), None)
        if r is None:
            records.append(_record(spec.table, spec.name, spec.cmd, spec.roles, "dropped", "계약에 있는 정책이 없음"))
            continue
        diffs = []
        cmd, roles = str(r.cmd).upper(), _roles(r.roles)
        if cmd != spec.cmd:
            diffs.append(f"command {spec.cmd} → {cmd}")
        if roles != spec.roles:
            diffs.append(f"roles {','.join(spec.roles)} → {','.join(roles)}")
        if (str(r.permissive).upper() == "PERMISSIVE") != spec.permissive:
            diffs.append(f"permissive {spec.permissive} → {r.permissive}")
        using, check = fingerprint(_text(r.qual)), fingerprint(_text(r.with_check))
        if using != spec.fingerprint[0]:
            diffs.append(f"USING names {list(spec.fingerprint[0])} → {list(using)}")
        if check != spec.fingerprint[1]:
            diffs.append(f"WITH CHECK names {list(spec.fingerprint[1])} → {list(check)}")
        state = "changed" if diffs else "ok"
        records.append(_record(spec.table, spec.name, cmd, roles, state, "; ".join(diffs)))
    for (table, name), r in found.items():
        records.append(_record(table, name, str(r.cmd).upper(), _roles(r.roles), "added", "계약에 없는 정책"))
    return pd.DataFrame(records, columns=["table", "policy", "cmd", "roles", "state", "difference"])


def _record(table: str, name: str, cmd: str, roles: Sequence[str], state: str, difference: str) -> dict[str, str]:
    return {
        "table": f"storage.{table}",
        "policy": name,
        "cmd": cmd,
        "roles": ",".join(roles),
        "state": state,
        "difference": difference,
    }


def compare_buckets(live: pd.DataFrame, expected: Sequence[BucketSpec], personal: Iterable[str]) -> pd.DataFrame:
    """Pure: each bucket (contract or live) with its public flag and limits now and in the contract.

    state: ok | missing | made_private | limits_changed | exposed (public now, private in the contract
    or holding personal media) | extra (not in the contract).
    """
    personal = set(personal)
    now = {str(r.bucket_id): r for r in live.itertuples(index=False)} if not live.empty else {}
    records = []
    for spec in expected:
        r = now.pop(spec.id, None)
        if r is None:
            records.append(_bucket(spec.id, None, spec, "missing", "버킷이 없음 (bucket missing)"))
            continue
        public = public_flag(r.public)
        limit = None if pd.isna(r.file_size_limit) else int(r.file_size_limit)
        mimes = tuple(r.allowed_mime_types) if isinstance(r.allowed_mime_types, list | tuple) else None
        notes = []
        if public and (not spec.public or spec.id in personal):
            state = "exposed"
            notes.append("public: 계약은 private" if not spec.public else "public: 개인 미디어 버킷")
        elif spec.public and not public:
            state = "made_private"
            notes.append("private: 계약은 public (public URLs fail)")
        else:
            state = "ok"
        if limit != spec.file_size_limit:
            notes.append(f"file_size_limit {spec.file_size_limit} → {limit}")
        if (tuple(sorted(mimes)) if mimes else None) != (
            tuple(sorted(spec.allowed_mime_types)) if spec.allowed_mime_types else None
        ):
            notes.append(f"allowed_mime_types {list(spec.allowed_mime_types or [])} → {list(mimes or [])}")
        if state == "ok" and notes:
            state = "limits_changed"
        records.append(_bucket(spec.id, (public, limit, mimes), spec, state, "; ".join(notes)))
    for bucket_id, r in now.items():
        public = public_flag(r.public)
        state = "exposed" if public and bucket_id in personal else "extra"
        limit = None if pd.isna(r.file_size_limit) else int(r.file_size_limit)
        mimes = tuple(r.allowed_mime_types) if isinstance(r.allowed_mime_types, list | tuple) else None
        why = "public: 개인 미디어 버킷" if state == "exposed" else "계약에 없는 버킷 (not in the contract)"
        records.append(_bucket(bucket_id, (public, limit, mimes), None, state, why))
    return pd.DataFrame(records)


def _bucket(
    bucket_id: str,
    now: tuple[bool, int | None, tuple[str, ...] | None] | None,
    spec: BucketSpec | None,
    state: str,
    note: str,
) -> dict[str, object]:
    return {
        "bucket_id": bucket_id,
        "public": None if now is None else now[0],
        "contract_public": None if spec is None else spec.public,
        "file_size_limit": None if now is None else now[1],
        "contract_file_size_limit": None if spec is None else spec.file_size_limit,
        "allowed_mime_types": None if now is None or now[2] is None else ", ".join(now[2]),
        "state": state,
        "note": note,
    }


def policies(conn: Connection, personal_buckets: Sequence[str] = ()) -> Policies:
    live = fetch(conn, "storage.policies", {})
    buckets = fetch(conn, "storage.buckets", {})
    policy_table = compare_policies(live.frame, expected_policies()) if live.ok else pd.DataFrame()
    bucket_table = (
        compare_buckets(buckets.frame, expected_buckets(), personal_buckets) if buckets.ok else pd.DataFrame()
    )
    rls = None
    if live.ok and not live.frame.empty:
        objects = live.frame[live.frame["table_name"] == "objects"]
        rls = bool(objects["rls_enabled"].iloc[0]) if not objects.empty else None
    exposed_ids = (
        sorted(bucket_table.loc[bucket_table["state"] == "exposed", "bucket_id"]) if not bucket_table.empty else []
    )
    counted = fetch(conn, "storage.bucket_objects", {"bucket_ids": exposed_ids})
    exposed = _exposed(bucket_table, counted.frame, exposed_ids)
    findings = (
        policy_findings(live.ok, live.error, policy_table)
        + flag_findings(buckets.ok, buckets.error, bucket_table)
        + exposure_findings(buckets.ok, buckets.error, exposed, rls, counted.error)
    )
    return Policies(
        policies=policy_table,
        buckets=bucket_table,
        exposed=exposed,
        rls_enabled=rls,
        findings=tuple(findings),
        timings=timings(live, buckets, counted),
    )


def _exposed(bucket_table: pd.DataFrame, counts: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    cols = ["bucket_id", "objects", "bytes", "newest_at", "why"]
    if not ids:
        return pd.DataFrame(columns=cols)
    records = []
    for bucket_id in ids:
        c = counts[counts["bucket_id"] == bucket_id] if not counts.empty else counts
        why = bucket_table.loc[bucket_table["bucket_id"] == bucket_id, "note"].iloc[0]
        records.append(
            {
                "bucket_id": bucket_id,
                "objects": int(c["objects"].iloc[0]) if not c.empty else 0,
                "bytes": int(c["bytes"].iloc[0]) if not c.empty else 0,
                "newest_at": c["newest_at"].iloc[0] if not c.empty else None,
                "why": why,
            }
        )
    return pd.DataFrame(records, columns=cols)


def policy_findings(ok_: bool, error: str | None, table: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.policy_drift")
    if not ok_:
        return [checks.error(check, error or "")]
    drifted = table[table["state"] != "ok"] if not table.empty else table
    if drifted.empty:
        return [ok(check, f"계약의 정책 {len(table)}개 모두 그대로 (all contract policies in place)")]
    label = {"dropped": "삭제됨 (dropped)", "changed": "변경됨 (changed)", "added": "추가됨 (added)"}
    return [
        checks.evaluate(
            check,
            1,
            subject=str(r.policy),
            detail=f'{r.table} "{r.policy}" {label[str(r.state)]}' + (f": {r.difference}" if r.difference else ""),
            evidence=evidence(pd.DataFrame([r._asdict()])),
        )
        for r in drifted.itertuples(index=False)
    ]


def flag_findings(ok_: bool, error: str | None, table: pd.DataFrame) -> list[Finding]:
    check = checks.get("storage.bucket_flag_drift")
    if not ok_:
        return [checks.error(check, error or "")]
    drifted = table[table["state"].isin(["missing", "made_private", "limits_changed"])] if not table.empty else table
    if drifted.empty:
        return [ok(check, "계약의 버킷 설정 그대로 (public flags and limits as in the contract)")]
    return [
        checks.evaluate(check, 1, subject=str(r.bucket_id), detail=f"{r.bucket_id}: {r.note}")
        for r in drifted.itertuples(index=False)
    ]


def exposure_findings(
    ok_: bool, error: str | None, exposed: pd.DataFrame, rls: bool | None, count_error: str | None
) -> list[Finding]:
    check = checks.get("storage.public_exposure")
    if not ok_:
        return [checks.error(check, error or "")]
    out = []
    for r in exposed.itertuples(index=False):
        detail = f"{r.bucket_id} 공개 상태: 객체 {r.objects:,}개 ({r.bytes / 1e6:,.1f} MB)가 공개 URL로 노출 — {r.why}"
        if count_error:
            detail += f" · 객체 수 조회 실패: {count_error}"
        out.append(checks.evaluate(check, int(r.objects), subject=str(r.bucket_id), detail=detail))
    if rls is False:
        out.append(
            checks.evaluate(
                check,
                0,
                subject="storage.objects RLS",
                detail="storage.objects의 RLS가 꺼져 있음: 정책과 무관하게 모든 객체 접근 가능 "
                "(row level security off)",
            )
        )
    if not out:
        out.append(ok(check, "개인 미디어 버킷 비공개 유지 (no personal media in a public bucket)"))
    return out


def mitigation_target(result: Policies, default: str) -> str:
    """The bucket the 'make private' dry-run should show: the first exposed one, else the page's parameter."""
    if not result.exposed.empty:
        return str(result.exposed["bucket_id"].iloc[0])
    return default
