"""§3-D mitigation: a storage bucket from public to private, as the actor role, with its audit row."""

from __future__ import annotations

import psycopg
import pytest

from opslib import actions
from opslib.errors import ActionRefused

NAME = "storage-bucket-private"


def _one(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


@pytest.fixture
def exposed(contract_db):
    """The contract's private bucket made public, holding three objects (one without metadata)."""
    with psycopg.connect(contract_db.admin) as conn:
        conn.execute("UPDATE storage.buckets SET public = true WHERE id = 'message-media'")
        conn.execute(
            "INSERT INTO storage.objects (bucket_id, name, metadata) VALUES"
            " ('message-media', 'u1/a.jpg', '{\"size\": 1000, \"mimetype\": \"image/jpeg\"}'),"
            " ('message-media', 'u1/b.jpg', '{\"size\": 2500, \"mimetype\": \"image/jpeg\"}'),"
            " ('message-media', 'u2/c.jpg', NULL)"
        )
    return contract_db


def test_dry_run_shows_before_after_and_the_objects_and_writes_nothing(exposed):
    out = actions.perform(NAME, target="message-media", database_url=exposed.actor, wi_id="WI-9")
    assert not out.executed and out.changed
    assert out.before["public"] is True and out.after["public"] is False
    assert out.before["objects_served_publicly"] == 3 and out.after["objects_served_publicly"] == 0
    assert out.before["bytes"] == 3500
    assert "--confirm storage-bucket-private" in out.message and "--target message-media" in out.message
    assert _one(exposed.admin, "SELECT public FROM storage.buckets WHERE id = 'message-media'") is True
    assert _one(exposed.admin, "SELECT count(*) FROM admin_audit_log") == 0


def test_confirmed_switch_writes_the_change_and_one_audit_row_then_is_idempotent_and_undoable(exposed):
    out = actions.perform(
        NAME, target="message-media", confirm=NAME, database_url=exposed.actor, reason="exposure", wi_id="WI-9"
    )
    assert out.executed and out.changed and len(out.audit_rows) == 1
    assert _one(exposed.admin, "SELECT public FROM storage.buckets WHERE id = 'message-media'") is False
    row = _one(
        exposed.admin,
        "SELECT row_to_json(a) FROM admin_audit_log a"
        " WHERE target_type = 'storage_bucket' AND target_id = 'message-media'",
    )
    assert row["action"] == "storage.bucket.visibility" and row["before"]["public"] is True
    assert row["after"]["public"] is False and "WI WI-9" in row["reason"]
    again = actions.perform(NAME, target="message-media", confirm=NAME, database_url=exposed.actor)
    assert again.executed and not again.changed
    assert _one(exposed.admin, "SELECT count(*) FROM admin_audit_log") == 1
    back = actions.perform(NAME, target="message-media", confirm=NAME, undo=True, database_url=exposed.actor)
    assert back.changed and _one(exposed.admin, "SELECT public FROM storage.buckets WHERE id = 'message-media'")
    assert _one(exposed.admin, "SELECT count(*) FROM admin_audit_log") == 2


def test_wrong_confirmation_and_unknown_bucket_are_refused(exposed):
    with pytest.raises(ActionRefused, match="does not match"):
        actions.perform(NAME, target="message-media", confirm="yes", database_url=exposed.actor)
    with pytest.raises(ActionRefused, match="does not exist"):
        actions.perform(NAME, target="nope", confirm=NAME, database_url=exposed.actor)
    assert _one(exposed.admin, "SELECT public FROM storage.buckets WHERE id = 'message-media'") is True


def test_the_reader_role_cannot_switch_a_bucket(exposed):
    with pytest.raises(Exception):  # noqa: B017 (a permission or read-only error, whichever comes first)
        actions.perform(NAME, target="message-media", confirm=NAME, database_url=exposed.reader)
    assert _one(exposed.admin, "SELECT public FROM storage.buckets WHERE id = 'message-media'") is True
