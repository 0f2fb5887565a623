"""The storage page's rules as pure functions: request kinds, the contract parser, policy and bucket
comparison, the exit condition and the RLS inference (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from opslib.storage import contract, exit_criteria, probe
from opslib.storage.policies import compare_buckets, compare_policies
from opslib.storage.requests import Kind, classify, succeeded


@pytest.mark.parametrize(
    ("method", "area", "kind"),
    [
        ("POST", "", Kind.UPLOAD),
        ("PUT", "", Kind.UPLOAD),
        ("PUT", "upload", Kind.UPLOAD),
        ("POST", "upload", Kind.URL_SIGN),
        ("POST", "sign", Kind.URL_SIGN),
        ("GET", "sign", Kind.READ_SIGNED),
        ("GET", "public", Kind.READ_PUBLIC),
        ("HEAD", "public", Kind.READ_PUBLIC),
        ("GET", "authenticated", Kind.READ_AUTH),
        ("GET", "", Kind.READ_AUTH),
        ("DELETE", "", Kind.DELETE),
        ("OPTIONS", "", Kind.PREFLIGHT),
        ("OPTIONS", "sign", Kind.PREFLIGHT),
        ("POST", "list", Kind.OTHER),
        ("POST", "public", Kind.OTHER),
    ],
)
def test_request_kinds(method, area, kind):
    assert classify(method, area) is kind


def test_success_is_2xx_or_3xx_and_no_answer_is_a_failure():
    assert succeeded(200) and succeeded(304) and not succeeded(403) and not succeeded(503)
    assert not succeeded(None) and not succeeded(float("nan"))


def test_the_contract_is_parsed_not_hard_coded():
    buckets = {b.id: b for b in contract.expected_buckets()}
    assert set(buckets) == {"avatars", "banners", "message-media"}
    assert buckets["message-media"].public is False and buckets["avatars"].public is True
    assert buckets["message-media"].file_size_limit == 52428800
    assert "video/mp4" in (buckets["message-media"].allowed_mime_types or ())
    names = {p.name for p in contract.expected_policies()}
    assert "message-media: sender or entitled recipient read" in names and len(names) == 7
    read = next(p for p in contract.expected_policies() if p.name == "avatars: read")
    assert read.cmd == "SELECT" and read.roles == ("anon", "authenticated")


def test_a_different_contract_text_gives_different_expectations():
    sql = """
    INSERT INTO storage.buckets (id, name, public) VALUES ('docs', 'docs', false), ('pics', 'pics', true);
    CREATE POLICY "docs: owner" ON storage.objects AS RESTRICTIVE FOR DELETE TO authenticated
      USING (bucket_id = 'docs' AND owner_id = (select auth.uid())::text);
    """
    (docs, pics) = contract.parse_buckets(sql)
    assert (docs.id, docs.public, docs.file_size_limit, pics.public) == ("docs", False, None, True)
    (policy,) = contract.parse_policies(sql)
    assert policy.permissive is False and policy.cmd == "DELETE"
    assert policy.fingerprint == (("'docs'", "uid()"), ())


def test_fingerprint_matches_the_servers_deparse():
    source = "bucket_id = 'avatars' AND (storage.foldername(name))[1] = (select auth.uid())::text"
    deparsed = (
        "((bucket_id = 'avatars'::text) AND ((storage.foldername(name))[1] = (( SELECT auth.uid() AS uid))::text))"
    )
    assert contract.fingerprint(source) == contract.fingerprint(deparsed)
    assert contract.fingerprint("true") != contract.fingerprint(source)
    assert contract.fingerprint(None) == () and contract.fingerprint(float("nan")) == ()


def _live(rows):
    return pd.DataFrame(
        rows, columns=["table_name", "rls_enabled", "policyname", "permissive", "roles", "cmd", "qual", "with_check"]
    )


def test_dropped_changed_and_added_policies_are_named():
    specs = contract.expected_policies()
    live = []
    for s in specs:
        if s.name == "avatars: owner delete":
            continue  # dropped
        roles = list(s.roles)
        qual = s.using
        if s.name == "avatars: read":
            qual = "true"  # opened to every bucket
        live.append(("objects", True, s.name, "PERMISSIVE", roles, s.cmd, qual or None, s.with_check or None))
    live.append(("objects", True, "debug: everyone", "PERMISSIVE", ["public"], "ALL", "true", None))
    table = compare_policies(_live(live), specs).set_index("policy")
    assert table.loc["avatars: owner delete", "state"] == "dropped"
    assert table.loc["avatars: read", "state"] == "changed" and "USING" in table.loc["avatars: read", "difference"]
    assert table.loc["debug: everyone", "state"] == "added"
    assert (table["state"] == "ok").sum() == len(specs) - 2


def test_buckets_against_the_contract_and_personal_media():
    live = pd.DataFrame(
        [
            ("avatars", False, 5242880, ["image/png", "image/jpeg", "image/webp"]),
            ("message-media", True, 52428800, ["image/png", "image/jpeg", "image/webp", "video/mp4"]),
            ("kyc", True, None, None),
            ("tmp", True, None, None),
        ],
        columns=["bucket_id", "public", "file_size_limit", "allowed_mime_types"],
    )
    table = compare_buckets(live, contract.expected_buckets(), ["message-media", "kyc"]).set_index("bucket_id")
    assert table.loc["avatars", "state"] == "made_private"
    assert table.loc["message-media", "state"] == "exposed"
    assert table.loc["kyc", "state"] == "exposed" and table.loc["tmp", "state"] == "extra"
    assert table.loc["banners", "state"] == "missing"


T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def _buckets(counts):
    return [
        exit_criteria.UploadBucket(T0 + timedelta(minutes=5 * i), T0 + timedelta(minutes=5 * (i + 1)), n, ok)
        for i, (n, ok) in enumerate(counts)
    ]


def test_exit_met_after_five_good_minutes():
    b = _buckets([(20, 5), (20, 20), (20, 20)])
    ev = exit_criteria.evaluate_exit(b, 5, b[-1].end)
    assert ev.met and ev.met_since == b[1].start and "충족" in ev.sentence


def test_exit_not_met_while_the_last_bucket_fails():
    b = _buckets([(20, 20), (20, 10), (20, 12)])
    ev = exit_criteria.evaluate_exit(b, 5, b[-1].end)
    assert not ev.met and ev.judgeable and "미충족" in ev.sentence and "since" in ev.sentence


def test_quiet_buckets_cannot_add_up_to_met():
    # 2 uploads per bucket, each bucket too quiet alone; over 15 minutes 6 of 6 failed
    b = _buckets([(2, 0), (2, 0), (2, 0)])
    ev = exit_criteria.evaluate_exit(b, 15, b[-1].end)
    assert not ev.met and ev.judgeable and "합계" in ev.sentence


def test_no_uploads_is_cannot_judge_never_met():
    b = _buckets([(0, 0), (0, 0)])
    ev = exit_criteria.evaluate_exit(b, 5, b[-1].end)
    assert not ev.met and not ev.judgeable and "판단 불가" in ev.sentence


def _probe(upload, delete=200):
    steps = [probe.ProbeStep("upload", upload, 10.0)]
    if delete is not None:
        steps.append(probe.ProbeStep("delete", delete, 10.0))
    return probe.ProbeResult(True, "", "b", "p", tuple(steps))


def test_users_failing_and_the_service_role_not_means_rls():
    cause, sentence = probe.infer(30, _probe(200), 0, 0)
    assert cause is probe.Cause.RLS and "RLS" in sentence


def test_the_service_role_failing_too_means_not_rls():
    assert probe.infer(30, _probe(503, None), 0, 0)[0] is probe.Cause.NETWORK
    assert probe.infer(30, _probe(None, None), 0, 0)[0] is probe.Cause.NETWORK


def test_without_the_probe_the_logs_decide_when_they_can():
    skipped = probe.ProbeResult(False, "skipped")
    assert probe.infer(30, skipped, 20, 0)[0] is probe.Cause.RLS
    assert probe.infer(30, skipped, 20, 5)[0] is probe.Cause.NETWORK
    assert probe.infer(30, skipped, 0, 0)[0] is probe.Cause.UNDETERMINED
    assert probe.infer(0, skipped, 0, 0)[0] is probe.Cause.NONE


def test_a_null_public_flag_is_not_public():
    """Hand-built round 3: storage.buckets.public is nullable; NULL (or a NaN from a frame) must not read as
    public (bool(nan) is True: the bucket would have been reported exposed, P0)."""
    import numpy as np

    from opslib.storage.policies import public_flag

    assert not public_flag(None) and not public_flag(float("nan")) and public_flag(np.bool_(True))
    live = pd.DataFrame(
        [("message-media", float("nan"), 52428800, ["image/png", "image/jpeg", "image/webp", "video/mp4"])],
        columns=["bucket_id", "public", "file_size_limit", "allowed_mime_types"],
    )
    table = compare_buckets(live, contract.expected_buckets(), ["message-media"]).set_index("bucket_id")
    assert table.loc["message-media", "state"] == "ok"
