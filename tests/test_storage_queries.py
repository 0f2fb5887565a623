"""EXPLAIN every storage query on a month of gateway logs: the window decides the cost, not the table.

bucket_usage reads every object row by design (a bucket's size is a property of the whole bucket); no
other storage query may scan logs.edge_logs, logs.function_logs or storage.objects whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import volume_database

from opslib import db, embedded, queries
from opslib.explain import classify

VOLUME_SQL = """
INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code, user_id, client_platform)
SELECT md5('e' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 400000)) * interval '1 second',
       CASE WHEN g % 5 = 0 THEN 'POST' WHEN g % 17 = 0 THEN 'OPTIONS' ELSE 'GET' END,
       CASE WHEN g % 3 = 0 THEN '/storage/v1/object/message-media/' || md5('u' || g % 999) || '/x.jpg'
            WHEN g % 3 = 1 THEN '/storage/v1/object/public/avatars/' || md5('u' || g % 999) || '/a.webp'
            ELSE '/rest/v1/messages' END,
       CASE WHEN g % 97 = 0 THEN 503 ELSE 200 END, md5('u' || g % 999)::uuid, 'ios'
FROM generate_series(1, 400000) g;
INSERT INTO logs.function_logs (id, "timestamp", function_name, level, event_message)
SELECT md5('f' || g)::uuid, now() - (30 * 86400.0 * (1 - g::float8 / 100000)) * interval '1 second',
       'ops-manage', CASE WHEN g % 50 = 0 THEN 'error' ELSE 'info' END,
       CASE WHEN g % 100 = 0 THEN '{"event":"storage_upload_failed"}' ELSE '{"event":"admin.request"}' END
FROM generate_series(1, 100000) g;
INSERT INTO storage.objects (bucket_id, name, metadata)
SELECT CASE WHEN g % 2 = 0 THEN 'avatars' ELSE 'message-media' END, 'o/' || g,
       jsonb_build_object('size', 1000 + g, 'mimetype', 'image/jpeg')
FROM generate_series(1, 60000) g;
"""

# Whole buckets, by design (see the queries' headers): a bucket's size is all of its rows, and
# counting a bucket that holds half the objects is cheaper as a scan than through the index.
ALLOWED_SEQ_SCANS = {"bucket_usage": {"objects"}, "bucket_objects": {"objects"}}


@pytest.fixture(scope="module")
def volume() -> Iterator[str]:
    with volume_database("stvol", VOLUME_SQL) as name:
        yield name


def explain_parameters(until: datetime) -> dict[str, dict[str, object]]:
    since = until - timedelta(hours=1)
    window = {"since": since, "until": until}
    return {
        "requests_buckets": {**window, "bucket": timedelta(minutes=5)},
        "failed_requests": {**window, "max_rows": 500},
        "preflights": window,
        "upload_impact": window,
        "upload_failed_events": window,
        "buckets": {},
        "policies": {},
        "bucket_usage": {"since": since},
        "bucket_objects": {"bucket_ids": ["message-media"]},
    }


def _seq_scans(plan: dict) -> set[str]:
    out = set()
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name"):
        out.add(str(plan["Relation Name"]))
    for child in plan.get("Plans", []) or []:
        out |= _seq_scans(child)
    return out


def test_explain_plan_class_of_every_storage_query(volume, artifacts):
    until = datetime.now(UTC)
    params = explain_parameters(until)
    names = {n.split(".", 1)[1] for n in queries.catalogue() if n.startswith("storage.")}
    assert set(params) == names, "a storage query has no EXPLAIN parameters"
    report = []
    big = {"edge_logs", "function_logs", "objects"}
    with db.read_only(embedded.url(volume, user=embedded.READER_ROLE), "storage") as conn:
        for name, values in params.items():
            q = queries.get(f"storage.{name}")
            plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + q.sql), values).scalar()[0]
            seq = _seq_scans(plan["Plan"]) & big
            report.append({"query": f"storage.{name}", "class": classify(name, plan).plan_class, "seq": sorted(seq)})
            unexpected = seq - ALLOWED_SEQ_SCANS.get(name, set())
            assert not unexpected, f"storage.{name} scans {unexpected} whole"
    (artifacts / "storage-plans.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
