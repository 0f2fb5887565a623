"""§3-D 최소 완화: "공개 URL 노출 리스크 시: public 접근 제한 + signed URL 전환" — a bucket from public to private.

Private means the Storage API serves the bucket's objects only to callers its RLS policies let
through, or by signed URL: every public URL of it stops working at once (the app must switch
to createSignedUrl: the documented fallback on the page). The plan shows the flag before and
after and the objects affected; the change and its admin_audit_log row are one transaction;
--undo makes the bucket public again (for a bucket the contract has public, e.g. avatars).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from opslib import queries
from opslib.actions import (
    ActionOutcome,
    ActionRequest,
    audit_rows,
    readable,
    register,
    require_confirmation,
    set_claims,
    writable,
)
from opslib.errors import ActionRefused

NAME = "storage-bucket-private"
DEFAULT_BUCKET = "message-media"
AUDIT_ACTION = "storage.bucket.visibility"


def _bucket(request: ActionRequest) -> str:
    return request.target or DEFAULT_BUCKET


def _row(frame: Any, bucket: str) -> dict[str, Any]:
    if frame.empty:
        raise ActionRefused(f"storage bucket {bucket!r} does not exist; nothing was written")
    row = frame.iloc[0].to_dict()
    return {
        "bucket_id": row["bucket_id"],
        "public": bool(row["public"]) if row["public"] is not None else False,
        "objects_served_publicly": int(row["objects"]) if row["public"] else 0,
        "objects": int(row["objects"]),
        "bytes": int(row["bytes"]),
    }


def _after(before: dict[str, Any], public: bool) -> dict[str, Any]:
    return {**before, "public": public, "objects_served_publicly": before["objects"] if public else 0}


def plan(conn: Connection, request: ActionRequest) -> ActionOutcome:
    """Dry-run: the flag before/after and the objects affected; writes nothing."""
    bucket = _bucket(request)
    wanted = request.undo  # the action makes private; undo makes public again
    frame = queries.run(conn, "actions.bucket_read", {"bucket_id": bucket}).frame
    if frame.empty:
        # a plan, not a refusal: the storage page shows it (a mistyped private_bucket stopped the page
        # there, leaving its exit condition unmeasured); --confirm still refuses it in _row
        return ActionOutcome(
            NAME,
            bucket,
            False,
            False,
            None,
            None,
            (),
            f"storage bucket {bucket!r} does not exist: nothing to switch (check the name, the storage page's "
            "private_bucket parameter, against storage.buckets)",
        )
    before = _row(frame, bucket)
    changed = before["public"] != wanted
    after = _after(before, wanted) if changed else before
    audit = ({"action": AUDIT_ACTION, "target_type": "storage_bucket", "target_id": bucket},) if changed else ()
    state = "public" if wanted else "private"
    message = (
        f"would make {bucket} {state}: {before['objects']:,} objects "
        f"{'served by public URL again' if wanted else 'no longer served by public URL (use signed URLs)'}, "
        f"1 admin_audit_log row; to do it: opsbook action {NAME} --target {bucket} --confirm {NAME}"
        f"{' --undo' if request.undo else ''}"
        if changed
        else f"{bucket} is already {state}: nothing to do"
    )
    return ActionOutcome(NAME, bucket, False, changed, before, after, audit, message)


@register(NAME, plan)
def bucket_private(
    request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None
) -> ActionOutcome:
    """Make a storage bucket private (or, with undo, public again); one audit row per change."""
    if not require_confirmation(NAME, confirm):
        with readable(database_url) as conn:
            return plan(conn, request)
    bucket = _bucket(request)
    wanted = request.undo
    with writable(database_url) as conn:
        set_claims(conn, request)
        before = _row(queries.run(conn, "actions.bucket_for_update", {"bucket_id": bucket}).frame, bucket)
        if before["public"] == wanted:
            return ActionOutcome(
                NAME,
                bucket,
                True,
                False,
                before,
                before,
                (),
                f"{bucket} was already {'public' if wanted else 'private'}: nothing written",
            )
        updated = queries.run(conn, "actions.bucket_set_public", {"bucket_id": bucket, "public": wanted}).frame
        if updated.empty:
            raise ActionRefused(f"storage bucket {bucket!r} vanished during the switch; rolled back")
        after = _after(before, wanted)
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": AUDIT_ACTION,
                "target_type": "storage_bucket",
                "target_id": bucket,
                "before": json.dumps(before, default=str, ensure_ascii=False),
                "after": json.dumps({**after, "opsbook": request.note()}, default=str, ensure_ascii=False),
                "reason": request.audit_reason(f"§3-D bucket {bucket} {'public' if wanted else 'private'}"),
            },
        )
        written = audit_rows(conn, "storage_bucket", bucket)
        if len(written) != 1:
            raise ActionRefused(f"expected exactly one audit row for {bucket}, found {len(written)}; rolled back")
    state = "public again" if wanted else "private (signed URLs only)"
    return ActionOutcome(
        NAME, bucket, True, True, before, after, written, f"{bucket} is now {state}; audit row written"
    )
