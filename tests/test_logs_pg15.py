"""The logs steps on PostgreSQL 15 (what Supabase runs, no pg_input_is_valid): the window read (loose index scan,
per-function range scans) and the JSON handled in the kernel give the same findings as on the embedded server,
a line that starts with `{` but is not JSON included.

Skipped, with the reason printed, when the PG15 binaries are not installed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from pg15 import contract_cluster

from opslib import db, logs
from opslib.timewindow import Window

PORT = 55473
UNTIL = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg15():
    with contract_cluster(PORT, "logs") as root:
        yield root


def test_the_audit_on_postgresql_15(pg15):
    good = {
        "env": "production",
        "release": "fn@v1",
        "platform": "edge",
        "request_id": "req_1",
        "event": "chat.message.relayed",
        "severity": "info",
        "domain": "chat",
    }
    rows = [("chat-relay", 30 - i, "info", json.dumps(good)) for i in range(6)]
    rows += [
        ("chat-relay", 10, "error", '{"event": "chat.message.failed", '),  # cut off: not JSON
        ("chat-relay", 9, "error", "relay failed for kim.minsu@example.com"),
        ("chat-relay", 200, "info", "before the window: 010-1234-5678"),
    ]
    with psycopg.connect(f"postgresql://postgres@/app?host={pg15}&port={PORT}", autocommit=True) as conn:
        for fn, before, level, message in rows:
            conn.execute(
                'INSERT INTO logs.function_logs (id, "timestamp", function_name, level, event_message)'
                " VALUES (gen_random_uuid(), %s, %s, %s, %s)",
                (UNTIL - timedelta(minutes=before), fn, level, message),
            )
    reader = f"postgresql+psycopg://opsbook_reader@/app?host={pg15}&port={PORT}"
    with db.read_only(reader, "logs") as conn:
        assert conn.execute(sa.text("SHOW server_version_num")).scalar().startswith("15")
        detection = logs.detect(conn, Window(UNTIL - timedelta(hours=1), UNTIL))
    steps = [logs.common_fields(detection), logs.payment_fields(detection), logs.event_names(detection)]
    steps += [logs.levels(detection), logs.pii(detection)]
    found = [*detection.findings, *(f for s in steps for f in s.findings)]
    assert detection.logs.total == 8
    problems = {(f.check, f.subject): f.severity.value for f in found if f.outcome.is_problem}
    assert problems == {("logs.structured", "chat-relay"): "P2", ("logs.pii", "chat-relay"): "P1"}
    assert next(f for f in found if f.check == "logs.structured").value == 75
    assert not [f for f in found if f.outcome.value == "ERROR"]
