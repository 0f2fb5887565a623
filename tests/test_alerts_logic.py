"""The alert board's metrics on hand-built contract databases, without papermill (fast).

One database written by hand on the bare contract (users through auth.users and its trigger,
DT through wallet_post, log rows as a drain writes them) holds four consecutive hours: OK, WARN,
P0 and a quiet hour. Every §4-E metric is measured on each hour with the board's step functions
(which call the domain pages' own queries and checks). The expected status of each hour was
written from §4-E's table before the steps ran: the webhook hour of 97/100 is WARN (< 98 %), of
90/100 is P0 (< 95 %), and so on; a quiet hour is NOT_EVALUATED, never OK.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest

from opslib import alerts, checks, db, embedded
from opslib import sentry as opslib_sentry
from opslib.alerts import sentry, watch
from opslib.errors import ConfigError
from opslib.results import Finding, Outcome, Severity
from opslib.timewindow import Window

HOURS = ("ok", "warn", "p0", "quiet")


class Hand:
    """Writes the four hours the way the app, its functions and the log drain would."""

    def __init__(self, conn: psycopg.Connection, start: datetime) -> None:
        self.conn = conn
        self.start = start

    def at(self, hour: str, minute: float) -> datetime:
        return self.start + timedelta(hours=HOURS.index(hour), minutes=minute)

    def window(self, hour: str) -> Window:
        since = self.at(hour, 0)
        return Window(since, since + timedelta(hours=1))

    def user(self, handle: str) -> str:
        uid = str(uuid.uuid4())
        self.conn.execute("INSERT INTO auth.users (id, email) VALUES (%s, %s)", (uid, f"{handle}@example.com"))
        return uid

    def webhooks(self, hour: str, ok: int, failed: int) -> None:
        rows = [(200, "processed")] * ok + [(500, "failed")] * failed
        for i, (status, state) in enumerate(rows):
            self.conn.execute(
                "INSERT INTO public.payment_webhook_logs"
                " (provider, processing_status, payload, received_at, http_status)"
                " VALUES ('portone', %s, '{}', %s, %s)",
                (state, self.at(hour, 50 * i / len(rows)), status),
            )

    def logins(self, hour: str, ok: int, failed: int) -> None:
        rows = [(200, None)] * ok + [(500, "unexpected_failure")] * failed
        for i, (status, code) in enumerate(rows):
            meta = {"remote_addr": f"10.1.{i // 200}.{i % 200}", "client_platform": "ios"}
            self.conn.execute(
                'INSERT INTO logs.auth_logs (id, "timestamp", level, method, path, grant_type, status, error_code,'
                " provider, metadata) VALUES (%s, %s, %s, 'POST', '/token', 'password', %s, %s, 'email', %s)",
                (uuid.uuid4(), self.at(hour, 50 * i / len(rows)), "error" if code else "info", status, code,
                 json.dumps(meta)),
            )  # fmt: skip

    def due_messages(self, hour: str, sender: str, n: int) -> None:
        for i in range(n):
            due = self.at(hour, 5 + 40 * i / n)
            self.conn.execute(
                "INSERT INTO public.messages (sender_id, body, scheduled_at, created_at) VALUES (%s, 'hi', %s, %s)",
                (sender, due, due - timedelta(hours=6)),
            )

    def realtime(self, hour: str, latency_ms: int, n: int) -> None:
        for i in range(n):
            self.conn.execute(
                'INSERT INTO logs.realtime_logs (id, "timestamp", level, event_type, channel, latency_ms)'
                " VALUES (%s, %s, 'info', 'broadcast', 'room:a', %s)",
                (uuid.uuid4(), self.at(hour, 50 * i / n), latency_ms),
            )

    def cold_starts(self, hour: str, boot_ms: int, n: int, warm: int = 20) -> None:
        for i in range(n + warm):
            boot = boot_ms if i < n else None
            self.conn.execute(
                'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code,'
                " execution_time_ms, boot_time_ms) VALUES (%s, %s, 'scheduled-dispatcher', 'POST', 200, %s, %s)",
                (uuid.uuid4(), self.at(hour, 50 * i / (n + warm)), 80 + (boot or 0), boot),
            )


@pytest.fixture(scope="module")
def hours(embedded_server) -> Iterator[tuple[str, Hand]]:
    """The four hours, ending two hours ago (nothing after them)."""
    name = f"t_alerts_{uuid.uuid4().hex[:8]}"
    embedded.create_contract_database(name, replace=True)
    with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
        now = conn.execute("SELECT date_trunc('hour', now())").fetchone()[0]
        hand = Hand(conn, now - timedelta(hours=6))
        sender = hand.user("creator")
        # webhook 성공률 (< 98 % warn, < 95 % P0, min 10 deliveries unless 3 failed)
        hand.webhooks("ok", 100, 0)
        hand.webhooks("warn", 97, 3)
        hand.webhooks("p0", 90, 10)
        hand.webhooks("quiet", 2, 0)
        # 로그인 실패율 (> 5 % warn, > 10 % P0)
        hand.logins("ok", 98, 2)
        hand.logins("warn", 93, 7)
        hand.logins("p0", 80, 20)
        hand.logins("quiet", 3, 0)
        # 예약 메시지 백로그 at each hour's end: 10, 70, 220 (> 50 warn, > 200 P0)
        hand.due_messages("ok", sender, 10)
        hand.due_messages("warn", sender, 60)
        hand.due_messages("p0", sender, 150)
        # Realtime 지연 P95 (> 2 s warn, > 5 s P0)
        hand.realtime("ok", 120, 20)
        hand.realtime("warn", 3000, 20)
        hand.realtime("p0", 8000, 20)
        hand.realtime("quiet", 9000, 2)
        # Edge Function 콜드 스타트 P95 (> 3 s warn, > 10 s P0)
        hand.cold_starts("ok", 600, 10)
        hand.cold_starts("warn", 4000, 10)
        hand.cold_starts("p0", 12000, 10)
        hand.cold_starts("quiet", 400, 1)
        yield name, hand
    with psycopg.connect(embedded.libpq_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(name: str, fn, *args) -> tuple[Finding, ...]:
    with db.read_only(embedded.url(name, user=embedded.READER_ROLE), "alerts") as conn:
        return fn(conn, *args).findings


def one(found: tuple[Finding, ...], check: str) -> Finding:
    """The check's finding; the webhook rate per provider: PortOne's (no Toss webhook was written)."""
    mine = [f for f in found if f.check == check and f.subject in (None, "all", "portone")]
    assert len(mine) == 1, [f.key for f in found]
    return mine[0]


EXPECTED = {
    # hour: (outcome, severity) per metric, from §4-E's table (and each check's warn severity)
    "ok": {"all": (Outcome.OK, None)},
    "warn": {
        "payments.webhook_success_rate": (Outcome.WARN, Severity.P2),
        "auth.login_failure_rate": (Outcome.WARN, Severity.P1),
        "messaging.scheduled_backlog": (Outcome.WARN, Severity.P1),
        "messaging.realtime_latency_p95": (Outcome.WARN, Severity.P2),
        "alerts.edge_cold_start": (Outcome.WARN, Severity.P2),
    },
    "p0": {"all": (Outcome.CRITICAL, Severity.P0)},
    "quiet": {
        "payments.webhook_success_rate": (Outcome.NOT_EVALUATED, None),
        "auth.login_failure_rate": (Outcome.NOT_EVALUATED, None),
        "messaging.scheduled_backlog": (Outcome.CRITICAL, Severity.P0),  # a state: 220 still pending
        "messaging.realtime_latency_p95": (Outcome.NOT_EVALUATED, None),
        "alerts.edge_cold_start": (Outcome.NOT_EVALUATED, None),
    },
}
STEPS = {
    "payments.webhook_success_rate": alerts.payments_metrics,
    "auth.login_failure_rate": alerts.auth_metrics,
    "messaging.scheduled_backlog": alerts.messaging_metrics,
    "messaging.realtime_latency_p95": alerts.messaging_metrics,
    "alerts.edge_cold_start": alerts.edge_cold_starts,
}


@pytest.mark.parametrize("hour", HOURS)
def test_each_metric_at_ok_warn_p0_and_quiet(hours, hour):
    name, hand = hours
    window = hand.window(hour)
    for check, step in STEPS.items():
        expected = EXPECTED[hour].get(check) or EXPECTED[hour]["all"]
        f = one(measure(name, step, window), check)
        assert (f.outcome, f.severity) == expected, (hour, check, f.value, f.detail)
        if f.outcome is Outcome.NOT_EVALUATED:
            assert f.detail, "an unmeasured metric says why"


def test_the_board_of_each_hour(hours):
    name, hand = hours
    boards = {}
    for hour in HOURS:
        w = hand.window(hour)
        boards[hour] = alerts.assemble(
            _m(name, alerts.payments_metrics, w),
            _m(name, alerts.auth_metrics, w),
            _m(name, alerts.messaging_metrics, w),
            _m(name, alerts.edge_cold_starts, w),
            _m(name, lambda conn: alerts.db_response_time(conn)),
            alerts.crash_free(None, w),
        )
    ok = {m["check"]: m for m in boards["ok"].to_json() if m["subject"] != "tosspayments"}
    toss = [m for m in boards["ok"].to_json() if m["subject"] == "tosspayments"]
    assert [m["status"] for m in toss] == ["NOT_EVALUATED"], "no Toss webhook at all is not a 100 % rate"
    # every §4-E row is on the board, with its lines and source, machine-readable
    assert [r.metric for r in alerts.rows()] == [
        "webhook 성공률", "wallet_ledger 음수 잔액", "로그인 실패율", "예약 메시지 백로그", "Realtime 지연",
        "DB P95 응답 시간", "Edge Function 콜드 스타트", "crash-free session rate",
    ]  # fmt: skip
    assert set(ok) == {r.check for r in alerts.rows()}
    assert (ok["payments.webhook_success_rate"]["warn"], ok["payments.webhook_success_rate"]["critical"]) == (
        "< 98%",
        "< 95%",
    )
    assert ok["payments.webhook_success_rate"]["status"] == "OK" and ok["payments.webhook_success_rate"]["value"] == 100
    assert ok["payments.negative_balance"]["status"] == "OK"
    # no source: never OK
    assert ok["alerts.db_p95_response"]["status"] == "NOT_EVALUATED"
    assert "pg_stat_statements" in ok["alerts.db_p95_response"]["detail"]
    assert "CREATE EXTENSION" in ok["alerts.db_p95_response"]["detail"]
    assert ok["alerts.crash_free_sessions"]["status"] == "NOT_EVALUATED"
    assert "sentry_sessions_file" in ok["alerts.crash_free_sessions"]["detail"]
    for m in boards["quiet"].to_json():
        assert m["status"] != "OK" or m["check"] == "payments.negative_balance", m
    # coverage: 결제, 인증, 메시지, 인프라 (cold starts) measured, 크래시 not: 4 of 5 → P3 gap
    cov = boards["ok"].findings[0]
    assert (cov.check, cov.value, cov.outcome, cov.severity) == ("alerts.domain_coverage", 4, Outcome.WARN, Severity.P3)
    assert "크래시" in cov.detail
    per_domain = {r["도메인"]: r["1개 이상 (≥ 1 measured)"] for r in boards["ok"].coverage.to_dict(orient="records")}
    assert per_domain == {
        "결제": "예 (yes)",
        "인증": "예 (yes)",
        "메시지": "예 (yes)",
        "인프라": "예 (yes)",
        "크래시": "아니오 (no)",
    }
    # the quiet hour: only the states (balances, backlog) are measured
    quiet = {r["도메인"]: r["측정됨 (measured)"] for r in boards["quiet"].coverage.to_dict(orient="records")}
    assert quiet == {"결제": 1, "인증": 0, "메시지": 1, "인프라": 0, "크래시": 0}
    # §0 on the P0 hour: every measured page at P0, 15-minute updates, payments first
    p0 = boards["p0"]
    found = [m.finding for m in p0.metrics]
    decision = alerts.decide(p0, found, wi_id="WI-77")
    assert decision.severity is Severity.P0 and decision.update_cadence == "15분"
    assert [p.page for p in decision.pages] == ["payments", "auth", "messaging", None]
    assert decision.pages[0].command == "opsbook run payments --wi WI-77"
    assert decision.pages[-1].command == "runbooks/edge-functions.md"
    # §0 on the warn hour: the auth and messaging P1s come before the P2s
    warn = alerts.decide(boards["warn"], [m.finding for m in boards["warn"].metrics])
    assert warn.severity is Severity.P1 and warn.update_cadence == "30분"
    assert [p.page for p in warn.pages][:2] == ["auth", "messaging"]
    assert warn.pages[0].command == "opsbook run auth --wi WI-TBD"


def _m(name: str, fn, *args):
    with db.read_only(embedded.url(name, user=embedded.READER_ROLE), "alerts") as conn:
        return fn(conn, *args)


def test_negative_balance_through_the_contract(contract_db):
    """A fan's wallet pushed below zero by an admin adjustment (wallet_post, allow_negative on): P0, payments."""
    w = None
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        fan = Hand(conn, datetime.now()).user("fan")
        now = conn.execute("SELECT now()").fetchone()[0]
        w = Window(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert one(measure(contract_db.name, alerts.payments_metrics, w), "payments.negative_balance").outcome is Outcome.OK
    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute("UPDATE public.wallet_accounts SET allow_negative = true WHERE user_id = %s", (fan,))
        conn.execute(
            "SELECT public.wallet_post('admin:wallet.adjust:1', 'admin_adjustment', %s::jsonb)",
            (
                json.dumps(
                    [{"user_id": fan, "amount_dt": -500}, {"account_code": "admin_adjustment", "amount_dt": 500}]
                ),
            ),
        )
    f = one(measure(contract_db.name, alerts.payments_metrics, w), "payments.negative_balance")
    assert (f.outcome, f.severity, f.value) == (Outcome.CRITICAL, Severity.P0, 1)
    board = alerts.assemble(_m(contract_db.name, alerts.payments_metrics, w))
    decision = alerts.decide(board, [m.finding for m in board.metrics], symptom="로그인/세션 장애")
    # measured P0 (payments) outranks the reported P1 symptom; both pages are named
    assert [(p.page, p.severity) for p in decision.pages] == [("payments", Severity.P0), ("auth", Severity.P1)]
    assert decision.pages[1].reasons == ("보고된 증상 (reported): 로그인/세션 장애",)


# --- §0 as data ----------------------------------------------------------------------------------


def test_the_decision_tree_is_the_runbooks_list_word_for_word():
    assert [(s.symptom, s.page) for s in alerts.symptoms()] == [
        ("결제/환불 실패", "payments"),
        ("로그인/세션 장애", "auth"),
        ("메시지 미수신/미발송", "messaging"),
        ("이미지/미디어 업로드 실패", "storage"),
        ("관리자 패널 장애", "admin"),
        ("크론/예약 작업 미실행", "cron"),
        ("Edge Function 배포 실패", None),
    ]
    from opslib.runbooks import RUNBOOKS

    assert all(s.page in RUNBOOKS for s in alerts.symptoms() if s.page)


def test_a_symptom_alone_names_its_page_at_its_class_and_an_unknown_one_is_refused():
    board = alerts.assemble()
    d = alerts.decide(board, symptom="결제 / 환불 실패", wi_id="WI-9", until="2026-12-02T03:00:00+09:00")
    assert d.severity is Severity.P0 and d.update_cadence == "15분"
    assert d.pages[0].command == "opsbook run payments --wi WI-9 -p until 2026-12-02T03:00:00+09:00"
    edge = alerts.decide(board, symptom="Edge Function 배포 실패")
    assert edge.pages[0].page is None and "edge-functions.md" in edge.pages[0].command
    assert not edge.mitigations(), "no opsbook page: nothing to run, the runbook to read instead"
    nothing = alerts.decide(board)
    assert nothing.severity is None and nothing.pages == () and "없음" in nothing.sentence
    with pytest.raises(ConfigError, match="§0"):
        alerts.symptom_named("결제 안 됨")


def test_thresholds_are_read_from_the_pages_not_copied():
    import yaml

    own = yaml.safe_load((Path(alerts.__file__).parent.parent / "checks" / "alerts.yaml").read_text())
    own_checks = {c["id"] for c in own["checks"]}
    for row in own["board"]:
        assert "warn" not in row and "critical" not in row, "a board row holds no threshold"
        # the board's own checks only for the rows no page measures; the others are the pages'
        assert (row["check"] in own_checks) == row["check"].startswith("alerts."), row
        assert checks.get(row["check"]).critical is not None
    # a page's line is the board's line
    assert alerts.board.lines(checks.get("messaging.scheduled_backlog")) == ("> 50건", "> 200건")
    assert alerts.board.lines(checks.get("auth.login_failure_rate")) == ("> 5%", "> 10%")


# --- Sentry: an export file, an opt-in API call against a local stub ----------------------------


def _export(tmp_path: Path, rate: float | None, sessions: int, *, start: str = "", end: str = "") -> str:
    body = {"groups": [{"by": {}, "totals": {"sum(session)": sessions, "crash_free_rate(session)": rate}}]}
    if start:
        body |= {"start": start, "end": end}
    path = tmp_path / f"sessions-{rate}-{sessions}.json"
    path.write_text(json.dumps(body))
    return str(path)


W = Window(datetime.fromisoformat("2026-12-02T00:00:00+00:00"), datetime.fromisoformat("2026-12-02T01:00:00+00:00"))


@pytest.mark.parametrize(
    ("rate", "sessions", "outcome", "severity"),
    [
        (0.998, 10_000, Outcome.OK, None),
        (0.992, 10_000, Outcome.WARN, Severity.P2),
        (0.98, 10_000, Outcome.CRITICAL, Severity.P0),
        (0.9, 20, Outcome.NOT_EVALUATED, None),  # 20 sessions, 2 crashes: too few to call a rate
        (None, 0, Outcome.NOT_EVALUATED, None),
    ],
)
def test_crash_free_rate_from_an_export(tmp_path, rate, sessions, outcome, severity):
    f = alerts.crash_free(None, W, sessions_file=_export(tmp_path, rate, sessions)).findings[0]
    assert (f.outcome, f.severity) == (outcome, severity), f.detail


def test_an_export_of_another_period_is_not_judged(tmp_path):
    path = _export(tmp_path, 0.5, 10_000, start="2026-11-01T00:00:00Z", end="2026-11-02T00:00:00Z")
    f = alerts.crash_free(None, W, sessions_file=path).findings[0]
    assert f.outcome is Outcome.NOT_EVALUATED and "겹치지 않음" in f.detail


def test_a_bad_export_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": []}')
    with pytest.raises(ConfigError, match="not a Sentry sessions answer"):
        sentry.load_export(str(bad))


TOKEN = "sntrys_the-test-token-0123456789abcdef"


class _Stub(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []
    answers: ClassVar[list[tuple[int, dict]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        _Stub.seen.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": self.rfile.read(length).decode()}
        )
        status, body = _Stub.answers.pop(0) if _Stub.answers else (200, {})
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    _Stub.seen, _Stub.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_crash_free_rate_from_the_sentry_api_stub(stub, monkeypatch):
    monkeypatch.setenv(sentry.TOKEN_ENV, TOKEN)
    monkeypatch.setenv(opslib_sentry.URL_ENV, stub)
    _Stub.answers = [
        (200, {"groups": [{"by": {}, "totals": {"sum(session)": 5000, "crash_free_rate(session)": 0.985}}]})
    ]
    f = alerts.crash_free(None, W, api=True, org="fanplat", project="42").findings[0]
    assert (f.outcome, f.severity) == (Outcome.CRITICAL, Severity.P0)
    req = _Stub.seen[0]
    assert req["path"].startswith("/api/0/organizations/fanplat/sessions/?")
    assert "crash_free_rate%28session%29" in req["path"] and "project=42" in req["path"]
    assert req["auth"] == f"Bearer {TOKEN}"
    # a refused token is ERROR with the status, and the token is nowhere in what is said
    _Stub.answers = [(401, {"detail": "Invalid token"})]
    f = alerts.crash_free(None, W, api=True, org="fanplat").findings[0]
    assert f.outcome is Outcome.ERROR and "401" in f.detail and TOKEN not in f.detail
    monkeypatch.setenv(opslib_sentry.URL_ENV, "http://127.0.0.1:9")  # nothing listens
    f = alerts.crash_free(None, W, api=True, org="fanplat").findings[0]
    assert f.outcome is Outcome.ERROR and TOKEN not in f.detail and "could not be reached" in f.detail


# --- watch: transitions and the Slack stub ------------------------------------------------------


def _snap(**statuses: tuple[str, str | None]) -> watch.Snapshot:
    metrics = {k: watch.State(s, sev, k) for k, (s, sev) in statuses.items()}
    return watch.Snapshot(datetime.now().astimezone(), "FAIL", 1, None, metrics, None, "")


def test_transitions_into_warn_p0_and_back():
    first = _snap(a=("OK", None), b=("WARN", "P1"), c=("NOT_EVALUATED", None))
    assert [(t.key, t.rising, t.pages) for t in watch.transitions(None, first)] == [("b", True, True)]
    second = _snap(a=("P0", "P0"), b=("OK", None), c=("NOT_EVALUATED", None))
    moved = {t.key: t for t in watch.transitions(first, second)}
    assert set(moved) == {"a", "b"}
    assert moved["a"].rising and moved["a"].pages and "OK → P0" in moved["a"].text()
    assert not moved["b"].rising and not moved["b"].pages and "WARN → OK" in moved["b"].text()
    # staying at P0 is not news; P2 → P1 is (paged), P0 → P1 is not
    third = _snap(a=("P0", "P0"), b=("WARN", "P2"), c=("NOT_EVALUATED", None))
    assert [(t.key, t.pages) for t in watch.transitions(second, third)] == [("b", False)]
    fourth = _snap(a=("WARN", "P1"), b=("WARN", "P1"), c=("NOT_EVALUATED", None))
    assert {t.key: t.pages for t in watch.transitions(third, fourth)} == {"a": False, "b": True}


def test_slack_notification_reaches_the_stub_and_never_says_the_url(stub):
    url = f"{stub}/services/T000/B000/the-secret-path-xyz"
    assert watch.notify_slack(url, "hello") is None
    assert json.loads(_Stub.seen[0]["body"]) == {"text": "hello"}
    _Stub.answers = [(500, {})]
    failure = watch.notify_slack(url, "hello")
    assert failure == "Slack answered HTTP 500" and "secret-path" not in failure
    failure = watch.notify_slack("http://127.0.0.1:9/services/the-secret-path-xyz", "x")
    assert failure is not None and "secret-path" not in failure and "127.0.0.1" not in failure


# --- the board's own queries are window-bound ----------------------------------------------------


def test_the_boards_queries_follow_their_window(contract_db):
    """EXPLAIN on 60,000 drained invocations: the cold-start query reads its window through the index.
    alerts.statement_times reads pg_stat_statements (bounded by pg_stat_statements.max), absent here."""
    from opslib.explain import SMALL_TABLES, classify

    with psycopg.connect(contract_db.admin, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO logs.function_edge_logs (id, "timestamp", function_name, method, status_code, boot_time_ms)'
            " SELECT gen_random_uuid(), now() - g * interval '2 seconds', 'scheduled-dispatcher', 'POST', 200,"
            " CASE WHEN g % 20 = 0 THEN 500 END FROM generate_series(1, 60000) g"
        )
        conn.execute("ANALYZE logs.function_edge_logs")
    cold = classify("alerts.edge_cold_starts", _plan(contract_db, "alerts.edge_cold_starts"))
    assert cold.plan_class == "index" and "function_edge_logs" in cold.index_scanned, cold
    catalogue = classify("alerts.statement_stats_extension", _plan(contract_db, "alerts.statement_stats_extension"))
    assert not set(catalogue.seq_scanned) - SMALL_TABLES - {"pg_extension"}, catalogue


def _plan(contract_db, name: str):
    import sqlalchemy as sa

    from opslib import queries
    from opslib.explain import sample_parameters

    with db.read_only(contract_db.reader, "alerts") as conn:
        now = conn.execute(sa.text("SELECT now()")).scalar()
        q = queries.get(name)
        values = sample_parameters(q, now - timedelta(hours=1), now, {})
        return conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]


def test_watch_refuses_bad_input_before_the_first_run(monkeypatch, capsys):
    from opslib.cli import main
    from opslib.runner import ExitCode

    monkeypatch.delenv(watch.SLACK_ENV, raising=False)
    assert main(["watch", "--notify-slack", "--count", "1"]) == ExitCode.USAGE
    assert watch.SLACK_ENV in capsys.readouterr().err
    assert main(["watch", "--interval", "-1"]) == ExitCode.USAGE
    assert main(["watch", "-p", "symptom", "뭔가 이상함"]) == ExitCode.USAGE


def test_a_state_metric_over_an_empty_table_is_not_measured():
    """0 negative balances with no wallet account, backlog 0 with no message: NOT_EVALUATED, so the domain
    does not count as measured; a real 0, a problem, or a probe that failed is left as the page judged it."""
    import pandas as pd

    from opslib.alerts.reused import Measured, on_data
    from opslib.fetch import Fetched

    zero = checks.evaluate(checks.get("payments.negative_balance"), 0)
    backlog = checks.evaluate(checks.get("messaging.scheduled_backlog"), 0)
    negative = checks.evaluate(checks.get("payments.negative_balance"), 2)
    empty = Fetched("alerts.state_rows", pd.DataFrame([{"user_wallets": False, "messages": False}]), None, 0.0)
    held = Fetched("alerts.state_rows", pd.DataFrame([{"user_wallets": True, "messages": True}]), None, 0.0)
    failed = Fetched("alerts.state_rows", pd.DataFrame(), "timeout", 0.0)
    assert [f.outcome for f in on_data([zero, backlog, negative], empty)] == [
        Outcome.NOT_EVALUATED,
        Outcome.NOT_EVALUATED,
        Outcome.CRITICAL,
    ]
    assert [f.outcome for f in on_data([zero, backlog], held)] == [Outcome.OK, Outcome.OK]
    assert [f.outcome for f in on_data([zero, backlog], failed)] == [Outcome.OK, Outcome.OK]
    (coverage,) = alerts.assemble(Measured(on_data([zero, backlog], empty), ())).findings
    assert coverage.value == 0 and "측정 못 한 도메인: 결제, 인증, 메시지" in coverage.detail
