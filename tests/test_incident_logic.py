"""The incident page's logic over bundles written by the real bundle writer (no kernel, no database).

Each bundle is a run folder made as opsbook run makes it (evidence.new_run_folder, result.json,
a report file, evidence.seal); the cases are what the runbook's §1 asks about one work item:
which runs belong to it, which verify, when it was first detected, what it affected (counted
once), whether updates were late, whether it may be closed, and the post-mortem's template.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from opslib import affected, evidence, incident
from opslib.incident import cadence, closing
from opslib.results import Severity
from opslib.timewindow import kst

T0 = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # 03:00 KST
WI = "WI-042"


def finding(check: str, severity: str | None, outcome: str = "CRITICAL", **extra: Any) -> dict[str, Any]:
    return {
        "check": check,
        "title": extra.pop("title", check),
        "outcome": outcome,
        "severity": severity,
        "value": extra.pop("value", 1),
        "unit": "",
        "section": "§3-A",
        **extra,
    }


def bundle(
    out: Path,
    runbook: str,
    started: datetime,
    *,
    wi: str = WI,
    findings: list[dict[str, Any]] | None = None,
    exit_state: dict[str, Any] | None = None,
    first_bad: datetime | None = None,
    keyed: affected.Affected | None = None,
    headline: list[str] | None = None,
    verdict: str = "FAIL",
    facts: dict[str, Any] | None = None,
) -> Path:
    """A sealed run folder exactly as the runner leaves one."""
    folder = evidence.new_run_folder(out, runbook, started, wi)
    inc: dict[str, Any] = {}
    if first_bad is not None:
        inc["first_bad_at"] = first_bad.strftime("%Y-%m-%dT%H:%M:%SZ")
    if keyed is not None:
        inc["affected"] = keyed.to_json()
    payload = {
        "runbook": runbook,
        "section": {"payments": "§3-A", "messaging": "§3-C"}.get(runbook, "§3"),
        "run_id": folder.name,
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": (started + timedelta(seconds=20)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wi_id": wi,
        "window": {"since": "", "until": started.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "verdict": verdict,
        "headline": headline or [],
        "findings": findings or [],
        "facts": facts or {},
        "exit_state": exit_state,
        "incident": inc,
        "mitigations": [],
    }
    (folder / f"{runbook}.html").write_text("<html>report</html>", encoding="utf-8")
    evidence.write_json(folder / evidence.RESULT, payload)
    evidence.seal(folder)
    return folder


def orders(*rows: tuple[str, int, int, str]) -> affected.Affected:
    return affected.from_rows(
        [
            {"provider": "portone", "order_id": o, "amount_krw": krw, "dt_not_credited": dt, "user_id": u}
            for o, krw, dt, u in rows
        ]
    )


NOT_MET = {
    "met": False,
    "sentence": "미충족: webhook 성공률 (portone) 0.0 % since 03:05 KST",
    "since": None,
    "hold_minutes": 30,
}


def met(since: datetime, hold: int = 30) -> dict[str, Any]:
    return {
        "met": True,
        "sentence": "종료 조건 충족",
        "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hold_minutes": hold,
    }


def build(ev: incident.Evidence, **kw: Any) -> incident.Incident:
    executed = kw.pop(
        "executed", pd.DataFrame(columns=["id", "created_at", "action", "target_type", "target_id", "changed"])
    )
    return incident.assemble(ev, executed, pd.DataFrame(), now=kw.pop("now", T0 + timedelta(hours=3)), **kw)


# --- collecting and verifying ----------------------------------------------------------


def test_only_the_work_items_runs_are_collected_and_a_tampered_one_is_reported_not_used(tmp_path):
    a = bundle(
        tmp_path, "payments", T0 + timedelta(minutes=10), findings=[finding("payments.webhook_success_rate", "P0")]
    )
    b = bundle(tmp_path, "payments", T0 + timedelta(minutes=50), exit_state=NOT_MET)
    bundle(tmp_path, "payments", T0, wi="WI-041")  # another incident
    bundle(tmp_path / "nested", "messaging", T0 + timedelta(minutes=20), verdict="PASS")  # any depth, any page
    result = json.loads((b / "result.json").read_text())
    result["verdict"] = "PASS"  # someone "fixed" the verdict after the run
    (b / "result.json").write_text(json.dumps(result))
    ev = incident.collect(tmp_path, WI)
    assert [r.folder for r in ev.runs] == [a, sorted((tmp_path / "nested").iterdir())[0]]
    assert [x.folder for x in ev.rejected] == [b]
    assert "result.json was changed after the run (SHA-256 differs)" in ev.rejected[0].problems
    frame = ev.frame()
    assert frame["manifest"].str.startswith("NOT USED").sum() == 1
    report = build(ev)
    bad = next(f for f in report.findings if f.check == "incident.bundle_unverified")
    assert bad.outcome.is_problem and bad.value == 1 and b.name in bad.detail


def test_an_unsealed_run_and_a_removed_file_are_reported(tmp_path):
    folder = evidence.new_run_folder(tmp_path, "payments", T0, WI)  # killed before the seal
    (folder / "payments.ipynb").write_text("{}", encoding="utf-8")
    whole = bundle(tmp_path, "payments", T0 + timedelta(minutes=5))
    (whole / "payments.html").unlink()
    ev = incident.collect(tmp_path, WI)
    assert ev.runs == ()
    reasons = " ".join(p for x in ev.rejected for p in x.problems)
    assert "incomplete run" in reasons and "payments.html is missing" in reasons
    report = build(ev)
    assert any(f.check == "incident.evidence" and f.outcome.value == "ERROR" for f in report.findings)
    assert report.close.allowed is False


def test_the_incident_pages_own_runs_are_not_evidence(tmp_path):
    bundle(tmp_path, "incident", T0, verdict="CONDITIONAL_PASS")
    assert incident.collect(tmp_path, WI).runs == ()


# --- timeline ----------------------------------------------------------------------------


def test_first_detection_is_the_earliest_bad_bucket_not_the_first_run(tmp_path):
    bundle(
        tmp_path,
        "messaging",
        T0 + timedelta(minutes=30),
        first_bad=T0 + timedelta(minutes=5),
        findings=[finding("m", "P1")],
    )
    bundle(
        tmp_path,
        "payments",
        T0 + timedelta(minutes=20),
        first_bad=T0 + timedelta(minutes=15),
        findings=[finding("p", "P0")],
    )
    ev = incident.collect(tmp_path, WI)
    report = build(ev, declared=T0 + timedelta(minutes=25))
    detected = incident.timeline.first(report.events, incident.Kind.DETECTED)
    assert detected is not None and detected.at == T0 + timedelta(minutes=5)
    assert "messaging" in detected.source
    kinds = [e.kind for e in report.events]
    assert kinds.index(incident.Kind.DETECTED) < kinds.index(incident.Kind.RUN) < kinds.index(incident.Kind.DECLARED)


def test_without_bucket_times_the_first_failing_run_is_named_as_such(tmp_path):
    bundle(tmp_path, "auth", T0 + timedelta(minutes=10), findings=[finding("auth.login_failure_rate", "P1")])
    at, where = incident.timeline.first_detection(incident.collect(tmp_path, WI))
    assert at == T0 + timedelta(minutes=10) and "no bucket reported" in where


def test_actions_and_exit_met_are_on_the_timeline_in_order(tmp_path):
    bundle(
        tmp_path,
        "payments",
        T0 + timedelta(minutes=10),
        first_bad=T0,
        findings=[finding("p", "P0")],
        exit_state=NOT_MET,
    )
    bundle(tmp_path, "payments", T0 + timedelta(minutes=90), exit_state=met(T0 + timedelta(minutes=40)), verdict="PASS")
    executed = pd.DataFrame(
        [
            {
                "id": 7,
                "created_at": T0 + timedelta(minutes=12),
                "action": "kill_switch.toggle",
                "target_type": "feature_flag",
                "target_id": "payments.purchase",
                "changed": "enabled: true → false",
            }
        ]
    )
    report = build(incident.collect(tmp_path, WI), executed=executed, closed=T0 + timedelta(minutes=95))
    labels = [(e.kind, e.at) for e in report.events]
    assert (incident.Kind.ACTION, T0 + timedelta(minutes=12)) in labels
    # exit met = the hold completed: since 03:40 KST + 30 minutes
    assert (incident.Kind.EXIT_MET, T0 + timedelta(minutes=70)) in labels
    assert [k for k, _ in labels][-1] is incident.Kind.CLOSED
    assert report.close.allowed and report.steps[-1].done


# --- impact counted once -------------------------------------------------------------------


def test_the_same_order_seen_by_two_runs_and_two_pages_counts_once(tmp_path):
    first = orders(("ord_000001", 5000, 50, "u1"), ("ord_000002", 10000, 110, "u2"))
    later = orders(("ord_000002", 10000, 110, "u2"), ("ord_000003", 3000, 30, "u2"))
    other_page = orders(("ord_000001", 5000, 0, "u1"))  # e.g. a page seeing the same order without DT
    bundle(tmp_path, "payments", T0, keyed=first, findings=[finding("p", "P0")])
    bundle(tmp_path, "payments", T0 + timedelta(minutes=30), keyed=later)
    bundle(
        tmp_path,
        "messaging",
        T0 + timedelta(minutes=40),
        keyed=affected.merge(other_page, affected.from_rows(messages=["m1", "m2"])),
    )
    bundle(tmp_path, "auth", T0 + timedelta(minutes=45))  # no keyed impact: named, not summed
    report = build(incident.collect(tmp_path, WI))
    imp = report.impact
    assert (imp.users, imp.orders, imp.krw, imp.dt, imp.messages) == (2, 3, 18000, 190, 2)
    assert imp.unkeyed_pages == ("auth",)
    assert list(imp.by_page["orders"]) == [3, 1]
    assert "합계에 없는 페이지" in "\n".join(imp.lines())


def test_keys_are_pseudonyms_not_ids():
    keyed = orders(("ord_123456", 1000, 10, "0b8f9d8e-1111-4222-8333-444455556666"))
    text = json.dumps(keyed.to_json())
    assert "0b8f9d8e" not in text and "ord_123456" not in text
    assert affected.Affected.from_json(json.loads(text)) == keyed


# --- severity, cadence, close ----------------------------------------------------------------


def test_severity_is_computed_and_a_disagreement_is_shown(tmp_path):
    bundle(tmp_path, "payments", T0, findings=[finding("a", "P0"), finding("b", "P2", outcome="WARN")])
    ev = incident.collect(tmp_path, WI)
    assert build(ev).classification.severity is Severity.P0
    given = build(ev, severity="P2")
    assert given.classification.severity is Severity.P2 and given.classification.disagreement == 2
    f = next(f for f in given.findings if f.check == "incident.severity_disagreement")
    assert f.outcome.is_problem and "P2" in f.detail and "P0" in f.detail
    assert not next(
        f for f in build(ev, severity="P0").findings if f.check == "incident.severity_disagreement"
    ).outcome.is_problem


def test_updates_due_every_15_minutes_at_p0_and_the_late_ones():
    declared = T0
    end = T0 + timedelta(minutes=61)
    on_time = [T0 + timedelta(minutes=m) for m in (10, 25, 40, 55)]
    c = cadence.schedule(Severity.P0, declared, end, on_time)
    assert [d - T0 for d in c.due] == [timedelta(minutes=m) for m in (15, 30, 45, 60)]
    assert c.overdue == ()
    late = cadence.schedule(Severity.P0, declared, end, [T0 + timedelta(minutes=m) for m in (10, 40)])
    assert [d - T0 for d in late.overdue] == [timedelta(minutes=30), timedelta(minutes=60)]
    assert cadence.schedule(Severity.P1, declared, end, []).due == (
        T0 + timedelta(minutes=30),
        T0 + timedelta(minutes=60),
    )
    assert cadence.schedule(Severity.P2, declared, end, []).due == ()  # 필요 시: no schedule
    unknown = cadence.schedule(Severity.P0, declared, end, None)
    assert unknown.overdue == () and "not judged" in unknown.sentence


def test_close_is_refused_while_a_pages_last_run_fails_or_cannot_judge(tmp_path):
    bundle(tmp_path, "payments", T0, exit_state=NOT_MET, findings=[finding("p", "P0")])
    bundle(tmp_path, "payments", T0 + timedelta(minutes=60), exit_state=met(T0 + timedelta(minutes=20)))
    bundle(
        tmp_path, "messaging", T0 + timedelta(minutes=61), exit_state={"met": None, "sentence": "판정 불가: 측정 실패"}
    )
    report = build(incident.collect(tmp_path, WI), closed=T0 + timedelta(minutes=70))
    assert not report.close.allowed
    assert "CONDITIONAL" in report.close.sentence and "messaging" in report.close.sentence
    assert "payments" not in report.close.sentence.split(":", 1)[1]  # its last run met the condition
    refused = next(f for f in report.findings if f.check == "incident.close_refused")
    assert refused.outcome.is_problem and refused.value == 1
    assert not report.steps[-1].done


def test_the_boards_run_neither_allows_nor_refuses_the_close(tmp_path):
    """The alert board has no exit condition (§4-E is a triage): only the domain pages decide the close."""
    bundle(tmp_path, "alerts", T0, findings=[finding("payments.webhook_success_rate", "P0")])
    bundle(tmp_path, "payments", T0 + timedelta(minutes=60), exit_state=met(T0 + timedelta(minutes=20)))
    report = build(incident.collect(tmp_path, WI), closed=T0 + timedelta(minutes=70))
    assert report.close.allowed, report.close.sentence
    assert [p.page for p in closing.exits(incident.collect(tmp_path, WI))] == ["payments"]
    # a page that has an exit condition and reports none still refuses the close
    bundle(tmp_path, "storage", T0 + timedelta(minutes=61))
    refused = build(incident.collect(tmp_path, WI), closed=T0 + timedelta(minutes=70))
    assert not refused.close.allowed and "storage" in refused.close.sentence


# --- the post-mortem ---------------------------------------------------------------------------

# OPS_RUNBOOK §1 "포스트모템 템플릿 (General Post-Mortem)": its structural lines, in order.
TEMPLATE = [
    "## Post-Mortem: ",
    "**일시**: ",
    "**지속 시간**: ",
    "**심각도**: ",
    "**IC**: ",
    "**Scribe**: ",
    "### 영향 (Impact)",
    "- 영향 사용자 수:",
    "- 매출 영향:",
    "- 데이터 영향:",
    "### 타임라인 (Timeline)",
    "| 시각 (KST) | 이벤트 |",
    "|-----------|--------|",
    " | 최초 감지 |",
    " | IC 배정 |",
    " | 근본 원인 파악 |",
    " | 수정 배포 |",
    " | 복구 확인 |",
    "### 근본 원인 (Root Cause)",
    "### 기여 요인 (Contributing Factors)",
    "### 잘된 것 (What Went Well)",
    "### 재발 방지 (Action Items)",
    "| 조치 | 담당 | 기한 |",
    "### 링크",
    "- Notion WI:",
    "- Slack Thread:",
    "- PR:",
    "- Deploy:",
]
PAYMENTS_TEMPLATE = [
    "## 결제 인시던트 보고",
    "**시각**: ",
    "**심각도**: ",
    "**영향 범위**: ",
    "### 증상",
    "### 타임라인",
    "### 근본 원인 (RCA)",
    "### 수정 내용",
    "### 재발 방지",
]


def _in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"template line {part!r} missing or out of order"
        at = found + len(part)


def test_the_post_mortem_follows_the_runbooks_templates_with_prompts(tmp_path):
    keyed = orders(("ord_000001", 5000, 50, "u1"))
    bundle(
        tmp_path,
        "payments",
        T0 + timedelta(minutes=10),
        first_bad=T0,
        keyed=keyed,
        exit_state=NOT_MET,
        findings=[finding("payments.webhook_success_rate", "P0", subject="portone")],
        headline=["PortOne webhook 서명 불일치: 고객 김민수 (minsu@example.com) 외"],
    )
    report = build(
        incident.collect(tmp_path, WI),
        declared=T0 + timedelta(minutes=5),
        title="결제 장애",
        roles={"IC": "홍길동", "Ops": "O", "Comms": "C", "Scribe": "S"},
    )
    pm = report.postmortem()
    _in_order(pm, TEMPLATE)
    _in_order(pm, PAYMENTS_TEMPLATE)
    assert "**IC**: 홍길동" in pm and "| 03:00 | 최초 감지 |" in pm and "| 03:05 | IC 배정 |" in pm
    assert "| HH:MM | 복구 확인 |" in pm  # not recovered: left for a person
    assert pm.count("[TO_FILL") == 6
    assert "minsu@example.com" not in pm and "김민수" not in pm  # candidate facts are masked
    assert "- 영향 사용자 수: 1명" in pm and "**영향 범위**: 1명 사용자, 1건 거래, 5,000원 영향" in pm
    anonymous = report.postmortem(names=False)
    assert "홍길동" not in anonymous and "**IC**: [이름]" in anonymous
    assert "홍길동" not in report.comms_text


def test_without_a_payments_run_only_the_general_template_is_written(tmp_path):
    bundle(tmp_path, "auth", T0, findings=[finding("auth.login_failure_rate", "P1")])
    pm = build(incident.collect(tmp_path, WI)).postmortem()
    assert "## 결제 인시던트 보고" not in pm and pm.startswith("## Post-Mortem: ")


def test_the_comms_update_is_in_the_channel_format_and_masked(tmp_path):
    bundle(
        tmp_path,
        "payments",
        T0,
        first_bad=T0,
        keyed=orders(("ord_000001", 5000, 50, "u1")),
        findings=[finding("p", "P0")],
        headline=["원인: 010-1234-5678 사용자 문의 급증"],
        exit_state=NOT_MET,
    )
    report = build(
        incident.collect(tmp_path, WI),
        declared=T0 + timedelta(minutes=3),
        title="결제 장애",
        now=T0 + timedelta(minutes=20),
    )
    lines = report.comms_text.splitlines()
    assert lines[0] == "[SEV-P0] 결제 장애 | 시작: 2026-11-27 03:00 KST | 영향: 사용자 1명, 주문 1건 5,000원, DT 50"
    assert 1 <= len(lines) - 1 <= 5 and lines[-1] == f"- WI: {WI}"
    assert "010-1234-5678" not in report.comms_text
    assert any(line.startswith("- 다음 업데이트: 03:33 KST") for line in lines)


def test_checklist_has_the_seven_steps_in_order(tmp_path):
    bundle(tmp_path, "payments", T0, findings=[finding("p", "P0")], exit_state=NOT_MET)
    steps = build(incident.collect(tmp_path, WI)).steps
    assert [s.ko for s in steps] == ["선언", "분류", "완화", "소통", "근본 원인", "방지", "종결"]
    assert [s.done for s in steps] == [False, True, False, False, False, False, False]


def test_close_sentence_without_any_run(tmp_path):
    close = closing.judge_close(incident.collect(tmp_path, WI), None)
    assert not close.allowed and "no verified run" in close.sentence


@pytest.mark.parametrize("text", ["", "2026-11-27T03:10, 2026-11-27T03:25+09:00"])
def test_update_times_parse(text):
    parsed = incident.parse_times(text, name="update_times")
    assert parsed is None if not text else len(parsed) == 2


def test_no_mitigation_with_the_wi_says_where_it_was_looked_for(tmp_path):
    # the P3 line read "완화 조치 실행 …: 0건" and its detail cell was empty
    bundle(tmp_path, "payments", T0, findings=[finding("p", "P0")])
    ev = incident.collect(tmp_path, WI)
    none = next(f for f in build(ev).findings if f.check == "incident.mitigation_executed")
    assert none.outcome.is_problem and none.value == 0
    assert WI in none.detail and "admin_audit_log" in none.detail and "드라이런만" in none.detail
    row = {"id": 1, "created_at": T0, "action": "kill_switch.toggle", "target_type": "feature_flag"}
    one = build(ev, executed=pd.DataFrame([{**row, "target_id": "payments.enabled", "changed": True}]))
    done = next(f for f in one.findings if f.check == "incident.mitigation_executed")
    assert not done.outcome.is_problem and f"{WI}로 실행된 가드 조치 1건" in done.detail


def test_the_report_top_names_the_incidents_severity_not_only_the_records_gaps(tmp_path):
    # the banner's severity is the page's own findings (P3 here): it read "심각도 P3 · 다음 스프린트"
    # above a P0 outage
    bundle(tmp_path, "payments", T0, findings=[finding("p", "P0")])
    report = build(incident.collect(tmp_path, WI))
    assert max(f.severity.rank for f in report.findings if f.outcome.is_problem and f.severity) >= 2
    assert report.headline.startswith("인시던트 심각도 P0 (증거로 계산") and "15분" in report.headline
    given = build(incident.collect(tmp_path, WI), severity="P1")
    assert "P1 (IC 입력" in given.headline and "30분" in given.headline
    assert "판단 불가" in build(incident.collect(tmp_path / "none", WI)).headline


def test_cause_candidates_are_sentences_not_a_pages_nested_facts(tmp_path):
    # the board's coverage/decision and the deploy's deployment were printed as Python dicts
    board_facts = {
        "decision": {"severity": "P0", "next_pages": [{"page": "payments"}]},
        "coverage": [{"도메인": "결제", "측정됨 (measured)": 3}],
        "failing_providers": ["kakao", "apple"],
        "broken_stage": "webhook",
        "signature_secret_match": False,
    }
    login = finding("smoke.T1", "P0", value=None, title="T1 인증", detail="로그인 후에도 /login에 머묾")
    bundle(tmp_path, "payments", T0, findings=[finding("p", "P0")], facts=board_facts)
    bundle(tmp_path, "smoke", T0 + timedelta(minutes=5), findings=[login])
    report = build(incident.collect(tmp_path, WI))
    said = " ".join(report.timeline["이벤트"])
    assert "failing_providers = kakao, apple" in said and "broken_stage = webhook" in said
    assert "signature_secret_match = False" in said
    assert "decision" not in said and "coverage" not in said and "{" not in said, said
    assert "T1 인증: 로그인 후에도 /login에 머묾" in said and "None" not in said
    pm = report.postmortem()
    assert "{'" not in pm and "T1 인증: 로그인 후에도 /login에 머묾" in pm


def test_an_incident_declared_before_any_run_starts_at_its_declaration(tmp_path):
    # declared on a user's report, the board run an hour later: the update's 시작 was the run's time
    bundle(tmp_path, "alerts", T0 + timedelta(minutes=60), findings=[finding("alerts.x", "P0")])
    report = build(incident.collect(tmp_path, WI), declared=T0, title="결제 실패")
    assert report.started == T0
    assert f"시작: {kst(T0)} |" in report.comms_text, report.comms_text
    closed = build(incident.collect(tmp_path, WI), declared=T0, closed=T0 + timedelta(minutes=90), title="결제 실패")
    assert "**지속 시간**: 90분" in closed.postmortem()
    later = build(incident.collect(tmp_path, WI), declared=T0 + timedelta(minutes=70))
    assert later.started == T0 + timedelta(minutes=60), "a detection before the declaration still starts it"
