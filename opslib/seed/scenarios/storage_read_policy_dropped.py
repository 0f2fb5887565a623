"""read_policy_dropped: the read policy of the private bucket is dropped; fans get 403 on media.

Injected, from 40 minutes before as_of: `DROP POLICY "message-media: sender or entitled recipient
read" ON storage.objects` (a bad migration). With no SELECT policy left for message-media, RLS
denies every user read: the baseline's authenticated reads of message-media are answered 403,
and creating a signed URL (which reads the object under RLS) answers 400 'Object not found'. On
top, 60 fan reads (403) and 20 reads by a thumbnail function with the service-role key (no user
JWT), which bypasses RLS and succeeds. Uploads are untouched.

Ground truth: storage.policy_drift P1 (the dropped policy), storage.read_denials P1 for
message-media, storage.media_load_failures P1.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import storage_drills as sd
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register

POLICY = "message-media: sender or entitled recipient read"


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(f'DROP POLICY IF EXISTS "{POLICY}" ON storage.objects')  # type: ignore[arg-type]
    reads = (
        "e.method = 'GET' AND e.path LIKE '/storage/v1/object/authenticated/message-media/%' AND e.user_id IS NOT NULL"
    )
    sd.restatus(conn, reads, 403, "new row violates row-level security policy (Unauthorized)")
    signs = "e.method = 'POST' AND e.path LIKE '/storage/v1/object/sign/message-media/%' AND e.user_id IS NOT NULL"
    sd.restatus(conn, signs, 400, "Object not found")
    media = "'/storage/v1/object/authenticated/message-media/' || c.id || '/' || s_uuid4(i, 962) || '.jpg'"
    path = f"(SELECT {media} FROM s_users c WHERE c.n = 4 + i % (SELECT n_creators FROM s_params))"
    sd.requests(conn, tag=11, count=60, method="GET", path=path, status=403, message="Unauthorized")
    sd.requests(conn, tag=12, count=20, method="GET", path=path, status=200, users="none", platform="edge")


SCENARIO = register(
    Scenario(
        name="read_policy_dropped",
        title="message-media 읽기 정책 삭제 (403 on reads)",
        description=__doc__ or "",
        expected=(
            Expected("storage.policy_drift", Severity.P1, POLICY),
            Expected("storage.read_denials", Severity.P1, "message-media"),
            Expected("storage.media_load_failures", Severity.P1),
        ),
        stage=None,
        inject=inject,
        runbook="storage",
    )
)
