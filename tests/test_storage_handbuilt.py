"""Hand-built incident databases for the storage page: written on the bare contract (no seeder), the
expected verdict written from runbook §3-D before the page ran. Each round goes through the whole notebook.

Round 1, 04:00 KST, a partial log drain: 8 uploads to message-media in the last half hour, 5 answered
500 and 2 with no status at all (the client went away; no platform, no metadata), 1 stored; the
"avatars: read" policy rewritten to USING (true); avatars with no or a non-numeric size in metadata.
Expected from the runbook: FAIL; upload success (7 of 8 failing, judged on its failures although the
sample is small) CRITICAL P1 for message-media, the changed policy named at P1, nothing else a
problem; exit condition not met.

Round 2, evening: a bucket 'kyc-documents' created public with 3 identity documents (the page told it
holds personal media), RLS switched off on storage.objects, avatars switched to private while the app
still hands out 8 public avatar URLs (answered 400). Expected: FAIL; public exposure P0 for
kyc-documents (3 objects) and for RLS off, the avatars flag drift P1, URL generation failures P1 (8 of
8 public URLs of a now-private bucket); nothing else a problem.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg

from opslib import runner
from opslib.results import Outcome, Severity, Verdict

UNTIL_QUIET = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 04:00 KST
UNTIL_EVENING = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 21:00 KST
FAN = "11111111-2222-4333-8444-555555555555"
CREATOR = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def _request(conn, at, method, path, status, user=FAN, platform="ios", metadata=None):
    conn.execute(
        'INSERT INTO logs.edge_logs (id, "timestamp", method, path, status_code, user_id, client_platform,'
        " request_id, event_message, metadata) VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, 'r', %s, %s)",
        (at, method, path, status, user, platform, f"{method} | {status} | {path}", json.dumps(metadata or {})),
    )


def _problems(result):
    return {(f.key, f.severity) for f in result.findings if f.outcome.is_problem}


def test_round1_quiet_hour_partial_drain_and_a_loosened_policy(contract_db, tmp_path):
    with psycopg.connect(contract_db.admin) as conn:
        for i in range(8):
            at = UNTIL_QUIET - timedelta(minutes=29 - 4 * i)
            status = 200 if i == 3 else None if i in (5, 6) else 500
            platform = None if status is None else "android"
            meta = {} if status is None else {"response": {"status_code": status}}
            _request(
                conn,
                at,
                "POST",
                f"/storage/v1/object/message-media/{CREATOR}/p{i}.jpg",
                status,
                CREATOR,
                platform,
                meta,
            )
        conn.execute('ALTER POLICY "avatars: read" ON storage.objects USING (true)')
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name, metadata) VALUES"
            " ('avatars', %s, NULL), ('avatars', %s, '{\"size\": \"abc\"}')",
            (f"{FAN}/avatar.webp", f"{CREATOR}/avatar.webp"),
        )
    result = runner.run(
        "storage", {"until": UNTIL_QUIET.isoformat()}, database_url=contract_db.reader, out_dir=tmp_path
    )
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    assert _problems(result) == {
        ("storage.upload_success_rate[message-media]", Severity.P1),
        ("storage.policy_drift[avatars: read]", Severity.P1),
    }
    assert not [f for f in result.findings if f.outcome is Outcome.ERROR]
    upload = next(f for f in result.findings if f.key == "storage.upload_success_rate[message-media]")
    assert upload.value == 12.5 and "응답 없음 ×2" in upload.detail
    capacity = next(f for f in result.findings if f.key == "storage.bucket_capacity[avatars]")
    assert "2개" in capacity.detail and capacity.outcome is Outcome.OK
    facts = json.loads((result.folder / "result.json").read_text())["facts"]
    assert facts["exit_condition_met"] is False and facts["leading_symptom"] == "upload"


def test_round2_a_public_kyc_bucket_rls_off_and_avatars_made_private(contract_db, tmp_path):
    with psycopg.connect(contract_db.admin) as conn:
        conn.execute("INSERT INTO storage.buckets (id, name, public) VALUES ('kyc-documents', 'kyc-documents', true)")
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name, owner, metadata)"
            " SELECT 'kyc-documents', 'u' || g || '/id.pdf', %s,"
            " jsonb_build_object('size', 200000, 'mimetype', 'application/pdf') FROM generate_series(1, 3) g",
            (FAN,),
        )
        conn.execute("ALTER TABLE storage.objects DISABLE ROW LEVEL SECURITY")
        conn.execute("UPDATE storage.buckets SET public = false WHERE id = 'avatars'")
        for i in range(8):
            _request(
                conn,
                UNTIL_EVENING - timedelta(minutes=50 - 6 * i),
                "GET",
                f"/storage/v1/object/public/avatars/{FAN}/avatar.webp",
                400,
                None,
                "web",
            )
    params = {"until": UNTIL_EVENING.isoformat(), "personal_buckets": "message-media, kyc-documents"}
    result = runner.run("storage", params, database_url=contract_db.reader, out_dir=tmp_path)
    assert result.error is None, result.error
    assert result.verdict is Verdict.FAIL
    assert _problems(result) == {
        ("storage.public_exposure[kyc-documents]", Severity.P0),
        ("storage.public_exposure[storage.objects RLS]", Severity.P0),
        ("storage.bucket_flag_drift[avatars]", Severity.P1),
        ("storage.url_generation_failures", Severity.P1),
    }
    kyc = next(f for f in result.findings if f.key == "storage.public_exposure[kyc-documents]")
    assert kyc.value == 3
    html = (result.folder / "storage.html").read_text(encoding="utf-8")
    assert "--target kyc-documents" in html, "the dry-run targets the exposed bucket"
