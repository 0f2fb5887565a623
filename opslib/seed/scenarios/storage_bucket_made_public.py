"""bucket_made_public: the private bucket of paid message media is switched to public.

Injected, 40 minutes before as_of: `UPDATE storage.buckets SET public = true WHERE id =
'message-media'` (a dashboard click meant for another bucket). Every paid photo becomes
readable by anyone holding its URL: 40 anonymous reads of /object/public/message-media/...
(no user JWT) follow, answered 200. Nothing fails; the data leaks.

Ground truth: storage.public_exposure P0 for message-media.
"""

from __future__ import annotations

import psycopg

from opslib.results import Severity
from opslib.seed.scenarios import storage_drills as sd
from opslib.seed.scenarios.base import Expected, Scenario, ScenarioContext, register


def inject(conn: psycopg.Connection, ctx: ScenarioContext) -> None:
    conn.execute(
        "UPDATE storage.buckets SET public = true, updated_at = (SELECT incident_start FROM s_params)"
        " WHERE id = 'message-media'"
    )
    path = (
        "(SELECT '/storage/v1/object/public/message-media/' || o.name FROM storage.objects o"
        " WHERE o.bucket_id = 'message-media' ORDER BY o.name OFFSET i LIMIT 1)"
    )
    sd.requests(conn, tag=21, count=40, method="GET", path=path, status=200, users="none", platform="web")


SCENARIO = register(
    Scenario(
        name="bucket_made_public",
        title="message-media 버킷 public 전환 (personal media exposed)",
        description=__doc__ or "",
        expected=(Expected("storage.public_exposure", Severity.P0, "message-media"),),
        stage=None,
        inject=inject,
        runbook="storage",
    )
)
