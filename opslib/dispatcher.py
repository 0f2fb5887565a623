"""pg_cron runs and their real HTTP outcome; the Vault ↔ Edge cron secret by digest.

Shared by the cron page (§3-F) and the messaging page (§3-C, `scheduled-dispatcher`).

## Linking a cron run to its pg_net response

A job that calls an Edge Function runs `SELECT public.invoke_edge_function(...)`, which only
enqueues `net.http_post` and returns the request id. pg_cron records the run as
`succeeded` / `1 row` whatever the function answers later. The answer lands in
`net._http_response` (`id` = the request id). What the contract gives us to join the two:

- `cron.job_run_details` does not record the request id (return_message is `1 row`);
- `net._http_response` has no URL, no body and no job: only id, status, error and `created`;
- `net.http_request_queue` (which has the URL) is emptied once the worker picks a request up.

So no column joins a run to its response. What the contract does guarantee is order and time:
(1) each Edge run draws exactly one id from `net.http_request_queue_id_seq`, inside its own
transaction, so ids grow in the order the runs called `net.http_post`; (2) the response row is
written after the request was made and, for a request that got an answer or timed out, no later
than the request timeout plus the worker's latency.

**The linking rule.** The runs of *every* Edge-calling job (they share the sequence), ordered by
`(start_time, runid)`, are matched in order to the responses ordered by `id`. A response can
belong to a run only if `start_time <= created <= start_time + timeout + link_grace_s` (timeout
read from the job's command, else the job registry's data). Responses created before the next
run started belong to something else and are skipped. A run whose cron status is not
`succeeded` made no request anyone could answer (its transaction rolled back or has not
committed yet).

**Its limits, and what the page says then.**
- pg_net deletes responses older than `pg_net.ttl` (6 hours), and the table is UNLOGGED (emptied
  by a crash/failover): a run older than that, or than the oldest response held, is
  `UNKNOWN`, never `OK`.
- Runs of different jobs starting within `tie_s` of each other (`scheduled-dispatcher` and
  `payment-reconcile` both fire at 18:30 UTC): start_time does not tell which drew the lower id.
  When their responses' outcomes differ, the functions' own log (`logs.function_edge_logs`,
  status code per function) decides when it gives one consistent assignment; otherwise both
  runs are `UNKNOWN` ("ambiguous").
- A run with no response next to a run whose response would also fit its time bounds: which of
  the two lost its answer is unknown, so both are `UNKNOWN` ("ambiguous").
- Any other caller of `net.http_post` in the same minutes (a database webhook, a manual
  `invoke_edge_function`) can steal a slot; the time bounds limit the damage to its own
  neighbourhood. The page's run-once action records the request id in its audit row.
- A run within its timeout that has no response yet is `PENDING`; past it, `NO_RESPONSE`
  (pg_net worker down or the request still queued).

## The cron secret

`invoke_edge_function` sends Vault's `cron_secret` as `x-cron-secret`; the functions compare it
with their `CRON_SECRET` environment variable. Supabase's Management API lists Edge Function
secrets by name with the SHA-256 digest of the value, never the value: the on-call puts that
digest in `OPSBOOK_EDGE_CRON_SECRET_SHA256` (environment, never a parameter file). The Vault
side is digested inside the database by `opsbook.cron_secret_sha256()` (SECURITY DEFINER,
`SET search_path = ''`, EXECUTE for `opsbook_reader` only; shipped in `opslib/sql/roles.sql`),
so the secret never leaves it. Without either side the comparison is NOT_EVALUATED and says
which credential or grant it needs. Only an 8-character digest prefix is ever shown.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml
from sqlalchemy.engine import Connection

from opslib import checks
from opslib.display import EVIDENCE_ROWS, evidence, for_display
from opslib.fetch import Fetched, QueryTiming, fetch, timings
from opslib.results import Finding, Outcome, Severity
from opslib.timewindow import Window

EDGE_SECRET_ENV = "OPSBOOK_EDGE_CRON_SECRET_SHA256"
DIGEST_PREFIX = 8
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_IN_FLIGHT = ("starting", "running", "sending", "connecting")


class JobKind(enum.Enum):
    EDGE = "edge"  # calls an Edge Function through pg_net: the HTTP outcome is what counts
    SQL = "sql"


class RunOutcome(enum.Enum):
    """What one cron run really achieved."""

    OK = "OK"  # SQL run succeeded, or the Edge Function answered 2xx
    HTTP_401 = "HTTP_401"  # the function refused the x-cron-secret
    HTTP_5XX = "HTTP_5XX"
    HTTP_OTHER = "HTTP_OTHER"  # any other non-2xx status
    TIMEOUT = "TIMEOUT"  # pg_net gave up after timeout_milliseconds
    NETWORK_ERROR = "NETWORK_ERROR"  # curl error other than a timeout (DNS, TLS, refused)
    NO_RESPONSE = "NO_RESPONSE"  # past its timeout and no response row: worker down, still queued
    PENDING = "PENDING"  # within its timeout, no response yet
    UNKNOWN = "UNKNOWN"  # older than pg_net's TTL, or the link is ambiguous: never OK
    CRON_FAILED = "CRON_FAILED"  # pg_cron itself says failed (SQL error, restart, startup timeout)
    RUNNING = "RUNNING"  # still starting/running in pg_cron

    @property
    def is_failure(self) -> bool:
        return self in FAILURES

    @property
    def is_judged(self) -> bool:
        """The run's outcome is known (success or failure)."""
        return self is RunOutcome.OK or self in FAILURES


FAILURES = frozenset(
    {
        RunOutcome.HTTP_401,
        RunOutcome.HTTP_5XX,
        RunOutcome.HTTP_OTHER,
        RunOutcome.TIMEOUT,
        RunOutcome.NETWORK_ERROR,
        RunOutcome.NO_RESPONSE,
        RunOutcome.CRON_FAILED,
    }
)
HTTP_FAILURES = FAILURES - {RunOutcome.CRON_FAILED}


# --- the job registry as data -------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One expected job (opslib/checks/cron.yaml)."""

    name: str
    schedule: str
    kind: JobKind
    severity: Severity
    exit_runs: int
    max_run_s: int
    function: str | None = None
    timeout_ms: int | None = None


@dataclass(frozen=True)
class LinkRules:
    link_grace_s: float
    tie_s: float
    default_timeout_ms: int
    default_max_run_s: int


@cache
def _cron_yaml() -> dict[str, Any]:
    text = (resources.files("opslib") / "checks" / "cron.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def expected_jobs() -> tuple[JobSpec, ...]:
    return tuple(
        JobSpec(
            name=j["name"],
            schedule=j["schedule"],
            kind=JobKind(j["kind"]),
            severity=Severity(j["severity"]),
            exit_runs=int(j["exit_runs"]),
            max_run_s=int(j["max_run_s"]),
            function=j.get("function"),
            timeout_ms=j.get("timeout_ms"),
        )
        for j in _cron_yaml()["jobs"]
    )


def job_spec(name: str) -> JobSpec | None:
    return next((j for j in expected_jobs() if j.name == name), None)


@cache
def link_rules() -> LinkRules:
    raw = _cron_yaml()["linking"]
    return LinkRules(
        link_grace_s=float(raw["link_grace_s"]),
        tie_s=float(raw["tie_s"]),
        default_timeout_ms=int(raw["default_timeout_ms"]),
        default_max_run_s=int(raw["default_max_run_s"]),
    )


# --- what a command calls -------------------------------------------------------------------


@dataclass(frozen=True)
class CommandTarget:
    kind: JobKind
    function: str | None = None
    timeout_ms: int | None = None  # None: not written in the command


_INVOKE = re.compile(r"invoke_edge_function\s*\(", re.IGNORECASE)
_NET_CALL = re.compile(r"net\.http_(post|get)\s*\(", re.IGNORECASE)
_FN_URL = re.compile(r"/functions/v1/([A-Za-z0-9_-]+)")
_LITERAL = re.compile(r"^'((?:[^']|'')*)'$")


def _call_args(text: str, open_paren: int) -> list[str]:
    """Top-level comma-separated arguments of the call whose '(' is at open_paren."""
    args, depth, current, quoted = [], 0, [], False
    for ch in text[open_paren + 1 :]:
        if quoted:
            current.append(ch)
            quoted = ch != "'"
            continue
        if ch == "'":
            quoted = True
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    args.append("".join(current).strip())
    return [a for a in args if a]


def _named(args: Sequence[str], name: str) -> str | None:
    for a in args:
        m = re.match(rf"^{name}\s*:?=>?\s*(.+)$", a, re.IGNORECASE | re.DOTALL)
        if m:
            return m.group(1).strip()
    return None


def command_target(command: str) -> CommandTarget:
    """What a cron command calls: an Edge Function (which one, with what timeout) or plain SQL.

    Reads `invoke_edge_function('<name>', body, <timeout_ms>)` (positional or `p_timeout_ms :=`)
    and direct `net.http_post(url := ... '/functions/v1/<name>', timeout_milliseconds := N)`.
    """
    m = _INVOKE.search(command)
    if m:
        args = _call_args(command, m.end() - 1)
        positional = [a for a in args if ":=" not in a and "=>" not in a]
        name = _named(args, "p_name") or (positional[0] if positional else "")
        lit = _LITERAL.match(name.strip())
        timeout = _named(args, "p_timeout_ms") or (positional[2] if len(positional) > 2 else None)
        return CommandTarget(
            JobKind.EDGE,
            lit.group(1).replace("''", "'") if lit else None,
            int(timeout) if timeout and timeout.isdigit() else None,
        )
    m = _NET_CALL.search(command)
    if m:
        args = _call_args(command, m.end() - 1)
        url = _FN_URL.search(command)
        timeout = _named(args, "timeout_milliseconds")
        # pg_net's own default when the command does not say
        return CommandTarget(
            JobKind.EDGE, url.group(1) if url else None, int(timeout) if timeout and timeout.isdigit() else 5000
        )
    return CommandTarget(JobKind.SQL)


def timeout_for(command: str, jobname: str | None) -> timedelta:
    target = command_target(command)
    spec = job_spec(jobname) if jobname else None
    ms = target.timeout_ms or (spec.timeout_ms if spec else None) or link_rules().default_timeout_ms
    return timedelta(milliseconds=ms)


# --- linking (pure) -------------------------------------------------------------------------


def http_outcome(status_code: Any, timed_out: Any, error_msg: Any) -> RunOutcome:
    """The outcome one pg_net response row records (pg_net src/core.c semantics)."""
    if status_code is not None and not pd.isna(status_code):
        code = int(status_code)
        if 200 <= code < 300:
            return RunOutcome.OK
        if code == 401:
            return RunOutcome.HTTP_401
        if 500 <= code < 600:
            return RunOutcome.HTTP_5XX
        return RunOutcome.HTTP_OTHER
    if (timed_out is True) or (isinstance(error_msg, str) and error_msg.lower().startswith("timeout")):
        return RunOutcome.TIMEOUT
    return RunOutcome.NETWORK_ERROR


@dataclass(frozen=True)
class Coverage:
    """What pg_net still holds: runs older than `since` cannot be linked any more."""

    db_now: datetime
    since: datetime  # max(now - ttl, oldest response held)
    ttl: timedelta


LINK_COLUMNS = ["request_id", "status_code", "timed_out", "error_msg", "response_at", "outcome", "link_note"]


def link_runs(
    runs: pd.DataFrame,
    responses: pd.DataFrame,
    coverage: Coverage,
    *,
    invocations: pd.DataFrame | None = None,
    rules: LinkRules | None = None,
) -> pd.DataFrame:
    """Each Edge run (columns runid, jobname, status, start_time, command) with its response.

    responses: request_id, status_code, timed_out, error_msg, created. invocations (optional):
    function_name, timestamp, status_code from logs.function_edge_logs, used only to settle
    ties. Returns the runs in (start_time, runid) order with LINK_COLUMNS added.
    """
    rules = rules or link_rules()
    grace = timedelta(seconds=rules.link_grace_s)
    out = runs.sort_values(["start_time", "runid"], kind="stable").reset_index(drop=True).copy()
    n = len(out)
    rows: list[dict[str, Any]] = [dict.fromkeys(LINK_COLUMNS) for _ in range(n)]
    resp = responses.sort_values("request_id", kind="stable").reset_index(drop=True) if len(responses) else responses
    starts = [pd.Timestamp(t).to_pydatetime() for t in out["start_time"]] if n else []
    bounds = [starts[i] + timeout_for(out.at[i, "command"], out.at[i, "jobname"]) + grace for i in range(n)]
    matched: dict[int, int] = {}  # run index -> response index

    j = 0
    for i in range(n):
        if out.at[i, "status"] != "succeeded":
            continue
        while j < len(resp) and pd.Timestamp(resp.at[j, "created"]).to_pydatetime() < starts[i]:
            j += 1
        if j < len(resp) and pd.Timestamp(resp.at[j, "created"]).to_pydatetime() <= bounds[i]:
            matched[i] = j
            j += 1

    def fits(i: int, k: int) -> bool:
        created = pd.Timestamp(resp.at[k, "created"]).to_pydatetime()
        return starts[i] <= created <= bounds[i]

    ambiguous: set[int] = set()
    order = [i for i in range(n) if out.at[i, "status"] == "succeeded"]
    for pos, i in enumerate(order):
        if i in matched or starts[i] < coverage.since:
            continue
        for neighbour in (order[pos - 1] if pos > 0 else None, order[pos + 1] if pos + 1 < len(order) else None):
            if neighbour is not None and neighbour in matched and fits(i, matched[neighbour]):
                ambiguous |= {i, neighbour}

    # ties: runs of different jobs started together, each with a response of a different outcome
    settled: dict[int, int] = {}
    group: list[int] = []
    tie = timedelta(seconds=rules.tie_s)
    groups: list[list[int]] = []
    for i in sorted(matched):
        if group and starts[i] - starts[group[-1]] <= tie:
            group.append(i)
        else:
            if len(group) > 1:
                groups.append(group)
            group = [i]
    if len(group) > 1:
        groups.append(group)
    for g in groups:
        kinds = {http_outcome(*_resp_fields(resp, matched[i])) for i in g}
        if len(kinds) <= 1 or len({out.at[i, "jobname"] for i in g}) < len(g):
            continue
        assignment = _settle_by_function_logs(out, resp, g, matched, starts, bounds, invocations)
        if assignment is None:
            ambiguous |= set(g)
        else:
            settled.update(assignment)
    matched.update(settled)

    for i in range(n):
        row = rows[i]
        status = out.at[i, "status"]
        if status == "failed":
            row["outcome"] = RunOutcome.CRON_FAILED
        elif status in _IN_FLIGHT:
            row["outcome"] = RunOutcome.RUNNING
        elif status != "succeeded":
            row["outcome"] = RunOutcome.UNKNOWN
            row["link_note"] = f"cron status {status!r}"
        elif i in ambiguous:
            row["outcome"] = RunOutcome.UNKNOWN
            row["link_note"] = "ambiguous: pg_net ids do not say which of the runs started together got which response"
        elif i in matched:
            k = matched[i]
            code, timed_out, error_msg = _resp_fields(resp, k)
            row.update(
                request_id=int(resp.at[k, "request_id"]),
                status_code=None if code is None or pd.isna(code) else int(code),
                timed_out=timed_out,
                error_msg=error_msg,
                response_at=resp.at[k, "created"],
                outcome=http_outcome(code, timed_out, error_msg),
            )
            if i in settled:
                row["link_note"] = "tie settled by logs.function_edge_logs"
        elif starts[i] < coverage.since:
            row["outcome"] = RunOutcome.UNKNOWN
            row["link_note"] = "older than pg_net's retention: the response is gone"
        elif coverage.db_now < bounds[i]:
            row["outcome"] = RunOutcome.PENDING
        else:
            row["outcome"] = RunOutcome.NO_RESPONSE
    for col in LINK_COLUMNS:
        out[col] = [r[col] for r in rows]
    return out


def _resp_fields(resp: pd.DataFrame, k: int) -> tuple[Any, Any, Any]:
    timed_out = resp.at[k, "timed_out"]
    error_msg = resp.at[k, "error_msg"]
    return (
        resp.at[k, "status_code"],
        None if timed_out is None or (isinstance(timed_out, float) and pd.isna(timed_out)) else bool(timed_out),
        None if error_msg is None or (isinstance(error_msg, float) and pd.isna(error_msg)) else str(error_msg),
    )


def _settle_by_function_logs(
    out: pd.DataFrame,
    resp: pd.DataFrame,
    group: list[int],
    matched: Mapping[int, int],
    starts: Sequence[datetime],
    bounds: Sequence[datetime],
    invocations: pd.DataFrame | None,
) -> dict[int, int] | None:
    """Assign the group's responses to its runs by the functions' own status codes, if they agree."""
    if invocations is None or invocations.empty:
        return None
    by_run: dict[int, RunOutcome] = {}
    for i in group:
        fn = command_target(out.at[i, "command"]).function or out.at[i, "jobname"]
        ts = pd.to_datetime(invocations["timestamp"], utc=True)
        rows = invocations[(invocations["function_name"] == fn) & (ts >= starts[i]) & (ts <= bounds[i])]
        kinds = {
            http_outcome(c, None, None) if c is not None and not pd.isna(c) else RunOutcome.NO_RESPONSE
            for c in rows["status_code"]
        }
        if len(kinds) != 1:
            return None
        by_run[i] = kinds.pop()
    pool = {matched[i]: http_outcome(*_resp_fields(resp, matched[i])) for i in group}
    assignment: dict[int, int] = {}
    for i in group:
        k = next((k for k, kind in pool.items() if kind is by_run[i]), None)
        if k is None:
            return None
        assignment[i] = k
        del pool[k]
    return assignment


# --- job_runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRuns:
    """One job's runs in a window, each with what it really achieved."""

    job: str
    window: Window
    found: bool  # the job exists in cron.job
    kind: JobKind | None
    function: str | None
    runs: pd.DataFrame  # raw (UTC), one row per run, with outcome and link columns
    table: pd.DataFrame  # display-ready (KST, masked)
    counts: Mapping[RunOutcome, int]
    coverage: Coverage | None
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> int:
        return sum(n for o, n in self.counts.items() if o.is_failure)

    @property
    def judged(self) -> int:
        return sum(n for o, n in self.counts.items() if o.is_judged)

    @property
    def latest_judged(self) -> RunOutcome | None:
        judged = [o for o in self.runs["outcome"] if o.is_judged] if len(self.runs) else []
        return judged[-1] if judged else None


DISPLAY_COLUMNS = [
    "runid",
    "start_time",
    "duration_s",
    "status",
    "outcome",
    "status_code",
    "request_id",
    "response_at",
    "error_msg",
    "return_message",
    "link_note",
]


def read_coverage(conn: Connection) -> tuple[Coverage | None, Fetched]:
    f = fetch(conn, "cron.net_coverage", {})
    if not f.ok or f.frame.empty:
        return None, f
    row = f.frame.iloc[0]
    now = pd.Timestamp(row["db_now"]).to_pydatetime()
    ttl = row["ttl"] if isinstance(row["ttl"], timedelta) else pd.Timedelta(row["ttl"]).to_pytimedelta()
    since = now - ttl
    oldest = row["oldest_response"]
    if oldest is not None and not pd.isna(oldest):
        since = max(since, pd.Timestamp(oldest).to_pydatetime())
    return Coverage(db_now=now, since=since, ttl=ttl), f


def job_runs(conn: Connection, job_name: str, window: Window) -> JobRuns:
    """The job's cron runs started in the window, each joined to its real HTTP outcome."""
    spec = job_spec(job_name)
    severity = spec.severity if spec else Severity.P2
    registry = fetch(conn, "cron.job_registry", {})
    if not registry.ok:
        return _failed(job_name, window, registry, severity)
    jobs = registry.frame[registry.frame["jobname"] == job_name]
    if jobs.empty:
        finding = Finding(
            check="cron.job_registered",
            outcome=Outcome.CRITICAL,
            severity=severity,
            section="§3-F 잡 레지스트리",
            title=checks.get("cron.job_registered").title,
            subject=job_name,
            value=1,
            detail=f"cron.job has no job named {job_name!r}: nothing runs it (deleted or renamed)",
        )
        return JobRuns(
            job_name,
            window,
            False,
            spec.kind if spec else None,
            spec.function if spec else None,
            pd.DataFrame(),
            pd.DataFrame(columns=DISPLAY_COLUMNS),
            {},
            None,
            (finding,),
            timings(registry),
        )
    command = str(jobs.iloc[0]["command"])
    target = command_target(command)
    jobids = [int(x) for x in jobs["jobid"]]
    own = fetch(conn, "cron.job_runs", {"jobids": jobids, **window.params()})
    fetched = [registry, own]
    if not own.ok:
        return _failed(job_name, window, own, severity, fetched)
    coverage: Coverage | None = None
    runs = own.frame
    if target.kind is JobKind.EDGE:
        coverage, cov = read_coverage(conn)
        fetched.append(cov)
        if coverage is None:
            return _failed(job_name, window, cov, severity, fetched)
        rules = link_rules()
        longest = max(
            timeout_for(c, n) for c, n in zip(registry.frame["command"], registry.frame["jobname"], strict=True)
        )
        pad = longest + timedelta(seconds=rules.link_grace_s)
        # earlier runs first, so that they take their own responses before the window's runs
        span = Window(window.since - pad, window.until)
        edge = fetch(conn, "cron.edge_runs", span.params())
        resp = fetch(conn, "cron.http_responses", {"since": span.since, "until": window.until + pad})
        fetched += [edge, resp]
        for f in (edge, resp):
            if not f.ok:
                return _failed(job_name, window, f, severity, fetched)
        functions = sorted({t.function for t in map(command_target, edge.frame["command"]) if t.function})
        inv = fetch(
            conn,
            "cron.function_invocations",
            {"functions": functions, "since": span.since, "until": window.until + pad},
        )
        fetched.append(inv)
        linked = link_runs(edge.frame, resp.frame, coverage, invocations=inv.frame if inv.ok else None)
        keep = linked[linked["runid"].isin(set(own.frame["runid"]))]
        runs = keep.reset_index(drop=True)
    else:
        runs = runs.sort_values(["start_time", "runid"]).reset_index(drop=True).copy()
        runs["outcome"] = [_sql_outcome(s) for s in runs["status"]]
        for col in LINK_COLUMNS:
            if col != "outcome":
                runs[col] = None
    runs["duration_s"] = (
        [
            (pd.Timestamp(e) - pd.Timestamp(s)).total_seconds() if e is not None and not pd.isna(e) else None
            for s, e in zip(runs["start_time"], runs["end_time"], strict=True)
        ]
        if len(runs)
        else []
    )
    counts = {o: int((runs["outcome"] == o).sum()) for o in RunOutcome if len(runs) and (runs["outcome"] == o).any()}
    result = JobRuns(
        job=job_name,
        window=window,
        found=True,
        kind=target.kind,
        function=target.function,
        runs=runs,
        table=_display(runs),
        counts=counts,
        coverage=coverage,
        findings=(),
        timings=timings(*fetched),
    )
    return replace(result, findings=run_findings(result, severity))


def _sql_outcome(status: Any) -> RunOutcome:
    if status == "succeeded":
        return RunOutcome.OK
    if status == "failed":
        return RunOutcome.CRON_FAILED
    if status in _IN_FLIGHT:
        return RunOutcome.RUNNING
    return RunOutcome.UNKNOWN


def _display(runs: pd.DataFrame) -> pd.DataFrame:
    if runs.empty:
        return pd.DataFrame(columns=DISPLAY_COLUMNS)
    frame = runs.reindex(columns=DISPLAY_COLUMNS).copy()
    frame["outcome"] = [o.value for o in frame["outcome"]]
    return for_display(frame)


def _failed(job: str, window: Window, failed: Fetched, severity: Severity, fetched: Sequence[Fetched] = ()) -> JobRuns:
    finding = checks.error(checks.get("cron.http_failures"), failed.error or "query failed", subject=job)
    return JobRuns(
        job,
        window,
        False,
        None,
        None,
        pd.DataFrame(),
        pd.DataFrame(columns=DISPLAY_COLUMNS),
        {},
        None,
        (replace(finding, severity=severity),),
        timings(*(fetched or (failed,))),
    )


def run_findings(result: JobRuns, severity: Severity) -> tuple[Finding, ...]:
    """HTTP failures behind 'succeeded' and cron failures: ongoing (latest judged run failed) or recovered."""
    out: list[Finding] = []
    runs = result.runs
    outcomes = list(runs["outcome"]) if len(runs) else []
    latest = result.latest_judged
    for check_id, kinds in (("cron.http_failures", HTTP_FAILURES), ("cron.runs_failed", {RunOutcome.CRON_FAILED})):
        if check_id == "cron.http_failures" and result.kind is not JobKind.EDGE:
            continue
        check = checks.get(check_id)
        bad = [i for i, o in enumerate(outcomes) if o in kinds]
        judged = sum(1 for o in outcomes if o.is_judged)
        if check_id == "cron.http_failures" and outcomes and judged == 0:
            unknown = sum(1 for o in outcomes if o is RunOutcome.UNKNOWN)
            out.append(
                replace(
                    checks.evaluate(check, None, subject=result.job),
                    detail=f"{len(outcomes)}회 실행 중 판단 가능한 결과 없음 (UNKNOWN {unknown}: older than pg_net's "
                    "retention or ambiguous; pending/running runs not judged yet)",
                )
            )
            continue
        found = checks.evaluate(check, len(bad), subject=result.job, evidence=_evidence(runs, bad))
        if bad:
            ongoing = latest in kinds
            by_kind = pd.Series([outcomes[i].value for i in bad]).value_counts().to_dict()
            detail = ", ".join(f"{k} {v}" for k, v in by_kind.items()) + (
                " · 최근 실행도 실패 (ongoing)" if ongoing else " · 최근 실행은 성공 (recovered)"
            )
            found = replace(
                found,
                outcome=Outcome.CRITICAL if ongoing else Outcome.WARN,
                severity=severity if ongoing else check.warn_severity,
                detail=detail,
            )
        out.append(found)
    return tuple(out)


def _evidence(runs: pd.DataFrame, idx: Sequence[int]) -> tuple[dict[str, Any], ...]:
    if not idx:
        return ()
    frame = runs.iloc[list(idx)[-EVIDENCE_ROWS:]].reindex(columns=DISPLAY_COLUMNS).copy()
    frame["outcome"] = [o.value for o in frame["outcome"]]
    return evidence(frame)


# --- the cron secret ------------------------------------------------------------------------


class SecretStatus(enum.Enum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    VAULT_MISSING = "VAULT_MISSING"  # no cron_secret in Vault: invoke_edge_function sends no secret
    NOT_EVALUATED = "NOT_EVALUATED"  # a side could not be read; `detail` says which credential
    ERROR = "ERROR"


@dataclass(frozen=True)
class SecretComparison:
    """Vault cron_secret vs the Edge Functions' CRON_SECRET, by SHA-256 digest only."""

    status: SecretStatus
    vault_prefix: str | None  # first DIGEST_PREFIX hex characters, never more
    edge_prefix: str | None
    vault_updated_at: datetime | None
    detail: str
    finding: Finding
    timings: tuple[QueryTiming, ...] = field(default_factory=tuple)

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"side": "Vault cron_secret", "sha256_prefix": self.vault_prefix, "updated_at": self.vault_updated_at},
                {
                    "side": f"Edge CRON_SECRET ({EDGE_SECRET_ENV})",
                    "sha256_prefix": self.edge_prefix,
                    "updated_at": None,
                },
            ]
        ).pipe(for_display)


SECRET_CHECK = "cron.secret_digest"


def normalise_digest(value: str | None) -> str | None:
    """A SHA-256 hex digest as the Management API lists it, or None when not one."""
    if value is None:
        return None
    text = value.strip().lower().removeprefix("sha256:")
    return text if _SHA256_HEX.match(text) else None


def compare_cron_secret(
    conn: Connection,
    *,
    edge_sha256: str | None = None,
    environ: Mapping[str, str] | None = None,
    severity: Severity = Severity.P1,
) -> SecretComparison:
    """Compare digests: Vault's computed in the database, the Edge side from the environment.

    edge_sha256 overrides the environment (for callers that already hold the digest). Neither
    secret is ever read into Python: only digests, and only their prefixes are shown.
    """
    env = os.environ if environ is None else environ
    raw_edge = edge_sha256 if edge_sha256 is not None else env.get(EDGE_SECRET_ENV)
    edge = normalise_digest(raw_edge)
    vault = fetch(conn, "cron.vault_cron_secret_digest", {})
    vault_digest: str | None = None
    updated: datetime | None = None
    needs: list[str] = []
    if not vault.ok:
        reason = vault.error or ""
        if "does not exist" in reason or "permission denied" in reason:
            needs.append(
                "Vault side: the database role needs EXECUTE on opsbook.cron_secret_sha256() "
                "(the SECURITY DEFINER block at the end of opslib/sql/roles.sql, run once as postgres); "
                "the reader has no grant on vault by design"
            )
        else:
            return _secret_result(
                SecretStatus.ERROR, None, edge, None, f"Vault digest query failed: {reason}", severity, vault
            )
    elif not vault.frame.empty:
        vault_digest = str(vault.frame.iloc[0]["sha256_hex"])
        ts = vault.frame.iloc[0]["updated_at"]
        updated = None if ts is None or pd.isna(ts) else pd.Timestamp(ts).to_pydatetime()
    if raw_edge is None or not str(raw_edge).strip():
        needs.append(
            f"Edge side: set {EDGE_SECRET_ENV} to the SHA-256 digest Supabase lists for CRON_SECRET "
            "(Dashboard → Edge Functions → Secrets, or GET /v1/projects/{ref}/secrets)"
        )
    elif edge is None:
        needs.append(f"Edge side: {EDGE_SECRET_ENV} is set but is not a 64-character hex SHA-256 digest")
    if needs:
        return _secret_result(
            SecretStatus.NOT_EVALUATED, vault_digest, edge, updated, " · ".join(needs), severity, vault
        )
    if vault.frame.empty:
        return _secret_result(
            SecretStatus.VAULT_MISSING,
            None,
            edge,
            None,
            "Vault has no secret named cron_secret: invoke_edge_function sends an empty x-cron-secret",
            severity,
            vault,
        )
    if vault_digest == edge:
        return _secret_result(SecretStatus.MATCH, vault_digest, edge, updated, "digests match", severity, vault)
    return _secret_result(
        SecretStatus.MISMATCH,
        vault_digest,
        edge,
        updated,
        "Vault cron_secret ≠ Edge CRON_SECRET: the functions answer 401 to every scheduled call; "
        "set one to the other (dashboard), then watch the next runs answer 2xx",
        severity,
        vault,
    )


def _secret_result(
    status: SecretStatus,
    vault_digest: str | None,
    edge_digest: str | None,
    updated: datetime | None,
    detail: str,
    severity: Severity,
    fetched: Fetched,
) -> SecretComparison:
    outcome = {
        SecretStatus.MATCH: Outcome.OK,
        SecretStatus.MISMATCH: Outcome.CRITICAL,
        SecretStatus.VAULT_MISSING: Outcome.CRITICAL,
        SecretStatus.NOT_EVALUATED: Outcome.NOT_EVALUATED,
        SecretStatus.ERROR: Outcome.ERROR,
    }[status]
    finding = Finding(
        check=SECRET_CHECK,
        outcome=outcome,
        section="§3-F 트리아지 / §3-C 최소 완화",
        title="Vault cron_secret ↔ Edge CRON_SECRET (SHA-256 digest)",
        severity=severity if outcome is Outcome.CRITICAL else None,
        value=None if outcome in (Outcome.NOT_EVALUATED, Outcome.ERROR) else int(status is not SecretStatus.MATCH),
        threshold="digests equal",
        detail=detail,
    )
    return SecretComparison(
        status=status,
        vault_prefix=vault_digest[:DIGEST_PREFIX] if vault_digest else None,
        edge_prefix=edge_digest[:DIGEST_PREFIX] if edge_digest else None,
        vault_updated_at=updated,
        detail=detail,
        finding=finding,
        timings=timings(fetched),
    )
