"""Runbook §3-B 복구: "anon key 유효성 테스트: curl 로 Supabase REST API 직접 호출", as an opt-in step.

The project URL and the anon key come from the environment ($SUPABASE_URL, $SUPABASE_ANON_KEY),
never from a parameter or a cell, and the key is never printed: the answer is the status of each
health endpoint and how long it took. Without both variables the probe is skipped with a note.
Each call is bounded by timeout_s, so a gateway that accepts the connection and never answers ends
the step cleanly instead of hanging the page.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import pandas as pd

from opslib import checks
from opslib.results import Finding

ENV_URL = "SUPABASE_URL"
ENV_ANON_KEY = "SUPABASE_ANON_KEY"
# What the runbook's curl calls: PostgREST's root and GoTrue's health, both through the gateway.
ENDPOINTS = (("REST", "/rest/v1/"), ("Auth", "/auth/v1/health"))


@dataclass(frozen=True)
class Probe:
    ran: bool
    results: pd.DataFrame  # endpoint, path, status, ms, outcome
    sentence: str
    findings: tuple[Finding, ...]


def _skip(reason: str) -> Probe:
    check = checks.get("auth.anon_key_probe")
    return Probe(False, pd.DataFrame(), reason, (checks.evaluate(check, None, detail=reason),))


def probe_health(conn: Any = None, enabled: bool = False, timeout_s: float = 5.0) -> Probe:
    """Call the REST and Auth health endpoints with the anon key (conn is unused: not a database step)."""
    if not enabled:
        return _skip("건너뜀: probe_health = False (opt-in; set it and $SUPABASE_URL, $SUPABASE_ANON_KEY)")
    base = os.environ.get(ENV_URL, "").strip()
    key = os.environ.get(ENV_ANON_KEY, "").strip()
    if not base or not key:
        missing = " and ".join(n for n, v in ((ENV_URL, base), (ENV_ANON_KEY, key)) if not v)
        return _skip(f"건너뜀: 환경변수 {missing} 없음 (probe skipped: {missing} not set)")
    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return _skip(f"건너뜀: ${ENV_URL} is not an http(s) URL")
    rows = [_call(base.rstrip("/") + path, name, path, key, timeout_s) for name, path in ENDPOINTS]
    frame = pd.DataFrame(rows)
    failed = [r for r in rows if r["outcome"] != "ok"]
    host = parsed.hostname
    detail = (
        f"{host}: " + ", ".join(f"{r['endpoint']} {r['status'] or r['outcome']}" for r in rows)
        if not failed
        else f"{host}: 실패 " + ", ".join(f"{r['endpoint']} {r['outcome']}" for r in failed)
    )
    finding = checks.evaluate(checks.get("auth.anon_key_probe"), len(failed), detail=detail)
    sentence = (
        f"anon key로 REST·Auth 모두 응답 ({host})"
        if not failed
        else "anon key 점검 실패: " + "; ".join(f"{r['endpoint']} {r['outcome']}" for r in failed)
    )
    return Probe(True, frame, sentence, (finding,))


def _call(url: str, name: str, path: str, key: str, timeout_s: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"apikey": key, "Authorization": f"Bearer {key}"})
    started = time.perf_counter()
    status: int | None = None
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            status = answer.status
            outcome = "ok" if 200 <= status < 300 else f"HTTP {status}"
    except urllib.error.HTTPError as exc:
        status = exc.code
        outcome = (
            f"HTTP {exc.code}: anon key 거부 (key rejected: rolled over?)"
            if exc.code in (401, 403)
            else f"HTTP {exc.code}"
        )
    except TimeoutError:
        outcome = f"시간 초과 {timeout_s:g}초 (timed out)"
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            outcome = f"시간 초과 {timeout_s:g}초 (timed out)"
        else:
            outcome = f"연결 실패 ({type(reason).__name__})"
    except OSError as exc:
        outcome = f"연결 실패 ({type(exc).__name__})"
    return {
        "endpoint": name,
        "path": path,
        "status": status,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "outcome": outcome,
    }
