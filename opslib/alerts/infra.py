"""§4-E 인프라: Edge Function cold starts (logs.function_edge_logs) and DB P95 (pg_stat_statements).

No domain page measures these yet: the board's own named queries (opslib/queries/alerts/) and
checks (opslib/checks/alerts.yaml), for the Edge Functions and infrastructure pages to reuse.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import evidence, for_display
from opslib.fetch import QueryTiming, fetch, timings
from opslib.measures import first_value, number, rows
from opslib.results import Finding
from opslib.timewindow import Window, kst

# What the detail says to enable when pg_stat_statements cannot be read.
ENABLE_STATEMENTS = (
    "pg_stat_statements 사용 설정 필요 (enable it): shared_preload_libraries = 'pg_stat_statements' + 재시작, "
    "CREATE EXTENSION pg_stat_statements (Supabase: Database → Extensions, 기본 설치됨)"
)


@dataclass(frozen=True)
class ColdStarts:
    """Edge Function cold starts in the window, per function."""

    table: pd.DataFrame  # function_name, invocations, cold_starts, slow_cold_starts, boot_p95_ms, boot_max_ms
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def edge_cold_starts(conn: Connection, window: Window) -> ColdStarts:
    check = checks.get("alerts.edge_cold_start")
    fetched = fetch(conn, "alerts.edge_cold_starts", {**window.params(), "slow_ms": float(check.warn or 0)})
    if not fetched.ok:
        return ColdStarts(fetched.frame, (checks.error(check, fetched.error or ""),), timings(fetched))
    frame = fetched.frame
    per_function = frame[~frame["is_total"].astype(bool)].drop(columns=["is_total"]) if not frame.empty else frame
    return ColdStarts(for_display(per_function), (cold_start_finding(frame, per_function),), timings(fetched))


def cold_start_finding(frame: pd.DataFrame, per_function: pd.DataFrame) -> Finding:
    check = checks.get("alerts.edge_cold_start")
    total = rows(frame, is_total=True)
    invocations = int(number(first_value(total, "invocations")) or 0)
    cold = int(number(first_value(total, "cold_starts")) or 0)
    slow = int(number(first_value(total, "slow_cold_starts")) or 0)
    p95 = number(first_value(total, "boot_p95_ms"))
    if not invocations:
        detail = "측정 구간에 Edge Function 호출 기록 없음 (no invocations in logs.function_edge_logs: log drain?)"
    elif not cold:
        detail = f"호출 {invocations:,}건 중 콜드 스타트 없음 (no cold start: boot_time_ms is NULL on every call)"
    else:
        worst = first_value(per_function, "function_name")
        detail = (
            f"호출 {invocations:,}건 중 콜드 스타트 {cold}건 · P95 {p95:,.0f} ms · "
            f"{check.warn:g} ms 초과 {slow}건 · 가장 느린 함수 {worst}"
        )
    return checks.evaluate(
        check,
        p95 if cold else None,
        sample=cold,
        failures=slow,
        detail=detail,
        evidence=evidence(per_function, ["function_name", "cold_starts", "slow_cold_starts", "boot_p95_ms"]),
    )


@dataclass(frozen=True)
class StatementTimes:
    """DB response time from pg_stat_statements, or why it cannot be read here."""

    available: bool
    table: pd.DataFrame  # one row: calls, statements, p95_ms, mean_ms, slowest_mean_ms, stats_reset (KST)
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def db_response_time(conn: Connection) -> StatementTimes:
    check = checks.get("alerts.db_p95_response")
    ext = fetch(conn, "alerts.statement_stats_extension", {})
    if not ext.ok:
        return StatementTimes(False, pd.DataFrame(), (checks.error(check, ext.error or ""),), timings(ext))
    version = first_value(ext.frame, "installed_version")
    schema = first_value(ext.frame, "extension_schema")
    if version is None:
        shipped = bool(first_value(ext.frame, "available"))
        why = "pg_stat_statements 확장이 이 데이터베이스에 없음 (extension not installed" + (
            ", but shipped with this server)" if shipped else "; not even shipped with this server)"
        )
        finding = checks.evaluate(check, None, detail=f"{why}: {ENABLE_STATEMENTS}")
        return StatementTimes(False, pd.DataFrame(), (finding,), timings(ext))
    path = fetch(conn, "alerts.extension_search_path", {"schema": str(schema)})
    times = fetch(conn, "alerts.statement_times", {})
    if not times.ok:
        error = times.error or ""
        if "shared_preload_libraries" in error:
            finding = checks.evaluate(
                check,
                None,
                detail=f"pg_stat_statements {version} 설치됨, 라이브러리 미적재 (not preloaded): {ENABLE_STATEMENTS}",
            )
        else:
            hint = f" (the page role needs USAGE on schema {schema})" if "permission denied" in error else ""
            finding = checks.error(check, error + hint)
        return StatementTimes(False, pd.DataFrame(), (finding,), timings(ext, path, times))
    frame = times.frame
    calls = int(number(first_value(frame, "calls")) or 0)
    p95 = number(first_value(frame, "p95_ms"))
    reset = first_value(frame, "stats_reset")
    since = f" · {kst(pd.Timestamp(reset).to_pydatetime(), '%m-%d %H:%M KST')} 이후" if reset is not None else ""
    detail = (
        f"문장 {int(number(first_value(frame, 'statements')) or 0):,}개 · 호출 {calls:,}회{since} · "
        f"평균 {number(first_value(frame, 'mean_ms')) or 0:,.1f} ms (P95 over statement means, weighted by calls)"
        if calls
        else "pg_stat_statements에 이 데이터베이스의 호출 기록 없음 (no calls recorded since the last reset)"
    )
    finding = checks.evaluate(check, p95 if calls else None, sample=calls, detail=detail)
    return StatementTimes(True, for_display(frame), (finding,), timings(ext, path, times))
