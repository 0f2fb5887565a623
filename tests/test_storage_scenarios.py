"""The storage drills' injected facts, read straight from each seeded database (scale 1): what each
docstring says, and that the healthy baseline has none of it."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from opslib.seed.plan import INCIDENT_MINUTES

STORAGE = "e.path LIKE '/storage/v1/object/%%'"
UPLOAD = (
    "e.method IN ('POST', 'PUT') AND split_part(e.path, '/', 5) NOT IN"
    " ('sign', 'public', 'authenticated', 'upload', 'list', 'info', 'move', 'copy')"
)


@pytest.fixture(scope="module")
def q(seeded):
    def get(scenario: str):
        s = seeded(scenario)
        window = {"start": s.as_of - timedelta(minutes=INCIDENT_MINUTES), "as_of": s.as_of}

        def one(sql: str):
            with psycopg.connect(s.db.admin) as conn:
                return conn.execute(sql, window).fetchone()[0]  # type: ignore[arg-type,index]

        return one

    return get


IN = 'e."timestamp" >= %(start)s AND e."timestamp" < %(as_of)s'


def test_upload_failures_answers_most_uploads_503_and_logs_the_event(q):
    one = q("upload_failures")
    share = one(f"SELECT avg((e.status_code = 503)::int) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND {UPLOAD}")
    assert 0.8 < share < 1.0, "9 in 10 uploads fail, a few still get through"
    assert (
        one(f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND {UPLOAD} AND e.user_id IS NULL") == 12
    )
    assert one("SELECT count(*) FROM logs.function_logs WHERE event_message LIKE '%%storage_upload_failed%%'") == 12
    assert (
        one(
            f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND e.method = 'GET'"
            " AND e.status_code >= 400"
        )
        == 0
    ), "reads are untouched"


def test_read_policy_dropped_drops_the_policy_and_denies_user_reads(q):
    one = q("read_policy_dropped")
    assert (
        one("SELECT count(*) FROM pg_policies WHERE policyname = 'message-media: sender or entitled recipient read'")
        == 0
    )
    assert one("SELECT count(*) FROM pg_policies WHERE schemaname = 'storage'") == 6
    user_reads = (
        f"FROM logs.edge_logs e WHERE {IN} AND e.method = 'GET'"
        " AND e.path LIKE '/storage/v1/object/authenticated/message-media/%%'"
    )
    assert one(f"SELECT bool_and(e.status_code = 403) {user_reads} AND e.user_id IS NOT NULL")
    assert one(f"SELECT bool_and(e.status_code = 200) {user_reads} AND e.user_id IS NULL"), (
        "the service role bypasses RLS"
    )


def test_bucket_made_public_flips_only_message_media(q):
    one = q("bucket_made_public")
    assert one("SELECT public FROM storage.buckets WHERE id = 'message-media'") is True
    assert one("SELECT count(*) FROM storage.buckets WHERE public") == 3
    assert (
        one(
            f"SELECT count(*) FROM logs.edge_logs e WHERE {IN}"
            " AND e.path LIKE '/storage/v1/object/public/message-media/%%'"
            " AND e.user_id IS NULL AND e.status_code = 200"
        )
        == 40
    )


def test_bucket_over_quota_fills_message_media_past_50_gb_and_rejects_uploads(q):
    one = q("bucket_over_quota")
    size = one("SELECT sum((metadata->>'size')::bigint) FROM storage.objects WHERE bucket_id = 'message-media'")
    assert size > 50 * 1024**3
    assert (
        one(
            "SELECT count(*) FROM storage.objects o JOIN storage.buckets b ON b.id = o.bucket_id"
            " WHERE (o.metadata->>'size')::bigint > b.file_size_limit"
        )
        == 0
    ), "every file is under its limit"
    rejected = one(
        f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND {UPLOAD} AND e.status_code = 413"
    )
    assert rejected >= 40
    assert (
        one(
            f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND e.path LIKE '/storage/v1/object/avatars/%%'"
            " AND e.status_code >= 400"
        )
        == 0
    ), "avatars keep working"


def test_cors_misconfigured_fails_every_preflight_and_loses_the_web_uploads(q):
    one = q("cors_misconfigured")
    assert one(
        f"SELECT bool_and(e.status_code = 403) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND e.method = 'OPTIONS'"
    )
    assert (
        one(
            f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND {UPLOAD} AND e.client_platform = 'web'"
        )
        == 0
    )
    assert (
        one(
            f"SELECT count(*) FROM logs.edge_logs e WHERE {IN} AND {STORAGE} AND {UPLOAD}"
            " AND e.client_platform <> 'web'"
        )
        > 0
    )


def test_healthy_storage_has_none_of_the_incidents(q):
    one = q("healthy")
    assert one("SELECT count(*) FROM pg_policies WHERE schemaname = 'storage'") == 7
    assert one("SELECT public FROM storage.buckets WHERE id = 'message-media'") is False
    assert (
        one(
            "SELECT count(*) FROM logs.edge_logs e WHERE e.\"timestamp\" >= %(as_of)s - interval '3 hours'"
            f" AND {STORAGE} AND (e.status_code >= 400 OR e.status_code IS NULL)"
        )
        == 0
    )
    assert one("SELECT count(*) FROM storage.objects") > 1000
    assert one(
        "SELECT count(*) FROM storage.objects o JOIN public.messages m ON o.name = m.media_paths[1]"
        " WHERE o.bucket_id = 'message-media'"
    ) == one("SELECT count(*) FROM public.messages WHERE cardinality(media_paths) > 0"), (
        "every message's media is an object"
    )
