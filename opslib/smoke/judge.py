"""Each case's finding, the evidence check (증적 필수), the 10-15 minute rule and the exit state: pure.

The verdict itself is the one rule every page shares (results.decide, runbook §6): a P0/P1 → FAIL;
otherwise a case that could not be judged or lacks its evidence → ERROR (never PASS); 1-2 P2/P3 →
CONDITIONAL PASS; none → PASS.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from opslib import checks, timewindow
from opslib.masking import mask_text
from opslib.results import ExitState, Finding, Outcome, Severity
from opslib.smoke.browser import CaseRun
from opslib.smoke.cases import Case, ManualResult, Plan

SECTION = "§6 스모크 테스트 Quick 7"
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class CaseResult:
    """One case as the report shows it: how it went, its screenshot, its finding(s)."""

    case: Case
    mode: str  # browser | manual
    status: str  # passed | failed | blocked | error | missing
    detail: str
    screenshot: Path | None  # inside the bundle
    image: bytes | None
    steps: pd.DataFrame
    calls: pd.DataFrame
    findings: tuple[Finding, ...]
    seen_at: datetime | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def image_b64(self) -> str:
        return base64.b64encode(self.image).decode("ascii") if self.image else ""


@dataclass(frozen=True)
class EvidenceCheck:
    table: pd.DataFrame
    findings: tuple[Finding, ...]
    complete: bool


@dataclass(frozen=True)
class Timing:
    table: pd.DataFrame
    findings: tuple[Finding, ...]
    sentence: str


@dataclass(frozen=True)
class ExitCheck:
    exit_state: ExitState
    findings: tuple[Finding, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Judged:
    """The whole run, judged."""

    cases: Mapping[str, CaseResult]
    evidence: EvidenceCheck
    exit: ExitCheck
    summary: pd.DataFrame

    def case(self, case_id: str) -> CaseResult:
        return self.cases[case_id]

    @property
    def problems(self) -> pd.DataFrame:
        """The summary's rows with a problem or an error, worst first."""
        if self.summary.empty:
            return self.summary
        bad = self.summary[self.summary["결과"] != "OK"]
        return bad.sort_values("심각도", key=lambda s: s.replace("", "P9")).reset_index(drop=True)

    def failed(self, at_least: Severity = Severity.P1) -> list[CaseResult]:
        return [
            r
            for r in self.cases.values()
            if any(f.outcome.is_problem and f.severity and f.severity.at_least(at_least) for f in r.findings)
        ]


def _finding(case: Case, outcome: Outcome, detail: str, severity: Severity | None = None, **kw: object) -> Finding:
    return Finding(
        check=f"smoke.{case.id}",
        outcome=outcome,
        section=f"{SECTION} {case.id} ({'핵심 core' if case.core else '비핵심 non-core'})",
        title=f"{case.id} {case.area}: {case.title}",
        severity=severity if outcome.is_problem else None,
        detail=mask_text(detail),
        threshold=f"실패 시 {case.severity.value} ({'핵심' if case.core else '비핵심'})",
        **kw,  # type: ignore[arg-type]
    )


def _problem(sev: Severity) -> Outcome:
    return Outcome.CRITICAL if sev.at_least(Severity.P1) else Outcome.WARN


def judge_browser(run: CaseRun) -> tuple[Finding, ...]:
    """A browser case: failed at its step's severity; passed with 5xx or script errors is a P2 issue
    ("에러 없음"); T4's latency judged against smoke.realtime_latency; not run is ERROR."""
    case = run.case
    if run.status == "blocked":
        # the account's failed login stopped this case and every other case of that account: one cause
        return (_finding(case, Outcome.ERROR, run.detail, cause=mask_text(run.blocked_by or run.detail)),)
    if run.status == "error":
        return (_finding(case, Outcome.ERROR, run.detail),)
    if run.status == "failed":
        sev = run.severity or case.severity
        return (_finding(case, _problem(sev), run.detail, sev),)
    found: list[Finding] = []
    if run.latency_s is not None:
        latency = checks.evaluate(
            checks.get("smoke.realtime_latency"),
            run.latency_s,
            detail=f"{run.latency_s:g}초 (send → seen on the second device)",
        )
        if latency.outcome.is_problem:
            found.append(latency)
    errors = [c.line() for c in run.calls if c.server_error] + [f"script error: {e}" for e in run.page_errors]
    if errors:
        sev = Severity.P2 if case.core else case.severity
        found.append(
            _finding(
                case,
                Outcome.WARN,
                f"통과했지만 오류 {len(errors)}건 (passed, with errors; §6 PASS means no error): {errors[0]}",
                sev,
            )
        )
    if not found:
        said = run.steps[-1].sentence if run.steps else "passed"
        found.append(_finding(case, Outcome.OK, said, value=run.latency_s, unit="초" if run.latency_s else ""))
    elif not any(f.check == f"smoke.{case.id}" for f in found):
        found.append(_finding(case, Outcome.OK, "단계 모두 통과 (every step passed)"))
    return tuple(found)


def judge_manual(case: Case, result: ManualResult | None) -> tuple[Finding, ...]:
    """A case done by hand: its result as given. A failure without a result says so (ERROR)."""
    if result is None or result.passed is None:
        return (_finding(case, Outcome.ERROR, "수동 결과 없음 (no result given for this manual case)"),)
    if result.passed:
        return (_finding(case, Outcome.OK, f"수동 통과 (passed by hand){_where(result)}"),)
    sev = result.severity or case.severity
    if (sev.at_least(Severity.P1)) != case.core:
        sev = case.severity  # a manual severity cannot move a case across §6's core line
    return (_finding(case, _problem(sev), f"수동 실패 (failed by hand){_where(result)}: {result.note or '-'}", sev),)


def _where(result: ManualResult) -> str:
    return f" · {result.device}" if result.device else ""


def image_kind(data: bytes | None) -> str:
    if not data:
        return ""
    if data.startswith(PNG):
        return "png"
    if data.startswith(JPEG):
        return "jpeg"
    return ""


def _as_png(data: bytes) -> bytes:
    """A phone's JPEG becomes PNG, so the report embeds one kind of image."""
    if image_kind(data) == "png":
        return data
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, format="PNG")
    return out.getvalue()


def keep_manual_screenshot(plan: Plan, result: ManualResult) -> tuple[Path | None, bytes | None, str]:
    """Copy a manual case's screenshot into the bundle; (path, bytes, why not) ."""
    src = result.screenshot
    if src is None:
        return None, None, "스크린샷 파일이 주어지지 않음 (no screenshot given)"
    if not src.is_file():
        return None, None, f"스크린샷 파일 없음 (no such file: {src.name})"
    data = src.read_bytes()
    kind = image_kind(data)
    if not kind:
        return None, None, f"스크린샷이 PNG/JPEG가 아님 ({src.name} is not a PNG or JPEG image)"
    plan.screenshots.mkdir(parents=True, exist_ok=True)
    target = plan.screenshots / f"{result.case}-manual.{'png' if kind == 'png' else 'jpg'}"
    shutil.copyfile(src, target)
    return target, _as_png(data), ""


def _steps_frame(run: CaseRun | None) -> pd.DataFrame:
    if run is None:
        return pd.DataFrame()
    return pd.DataFrame(
        [
            {
                "단계 (step)": i + 1,
                "무엇 (what)": s.step.what,
                "결과": "통과 OK" if s.ok else "실패 FAIL",
                "본 것 (seen)": mask_text(s.sentence),
                "seconds_s": round(s.seconds, 2),
            }
            for i, s in enumerate(run.steps)
        ]
    )


def _calls_frame(run: CaseRun | None) -> pd.DataFrame:
    if run is None or not run.calls:
        return pd.DataFrame()
    bad = [c for c in run.calls if c.failed]
    return pd.DataFrame(
        [
            {
                "시각 (KST)": timewindow.kst(c.at, "%H:%M:%S"),
                "종류": c.kind,
                "요청": f"{c.method} {c.path}",
                "상태": c.status if c.status is not None else f"no answer: {c.error}",
            }
            for c in bad
        ]
    )


def judge(plan: Plan, runs: Sequence[CaseRun]) -> Judged:
    """Every case of the plan, from the browser or the manual results file, with its evidence."""
    by_id = {r.case.id: r for r in runs}
    out: dict[str, CaseResult] = {}
    for case in plan.cases:
        if case.id in plan.manual_cases:
            manual = plan.manual.get(case.id)
            path, image, why = keep_manual_screenshot(plan, manual) if manual else (None, None, "no entry")
            found = judge_manual(case, manual)
            passed = manual is not None and manual.passed is True
            status = "passed" if passed else ("failed" if manual and manual.passed is False else "missing")
            detail = found[0].detail if image else f"{found[0].detail} · {why}"
            steps = pd.DataFrame(
                [
                    {
                        "기기 (device)": (manual.device if manual else "") or "-",
                        "결과": {True: "통과 OK", False: "실패 FAIL", None: "-"}[manual.passed if manual else None],
                        "메모 (note)": mask_text(manual.note) if manual and manual.note else "-",
                        "에러/로그 링크": manual.log_link if manual and manual.log_link else "-",
                        "시험 시각": timewindow.kst(manual.tested_at) if manual and manual.tested_at else "-",
                    }
                ]
            )
            out[case.id] = CaseResult(
                case,
                "manual",
                status,
                detail,
                path,
                image,
                steps,
                pd.DataFrame(),
                found,
                manual.tested_at if manual else None,
            )
            continue
        run = by_id.get(case.id)
        if run is None:
            finding = _finding(case, Outcome.ERROR, "실행되지 않음 (the case did not run)")
            out[case.id] = CaseResult(
                case, "browser", "error", finding.detail, None, None, pd.DataFrame(), pd.DataFrame(), (finding,)
            )
            continue
        image = run.screenshot.read_bytes() if run.screenshot and run.screenshot.is_file() else None
        found = judge_browser(run)
        status = run.status
        if status == "passed" and any(f.outcome.is_problem for f in found):
            status = "passed with issues"
        out[case.id] = CaseResult(
            case,
            "browser",
            status,
            run.detail or (run.steps[-1].sentence if run.steps else ""),
            run.screenshot,
            image,
            _steps_frame(run),
            _calls_frame(run),
            found,
            run.started_at,
        )
    evidence = check_evidence(plan, out)
    return Judged(out, evidence, exit_check(out, evidence), summary_frame(out))


def check_evidence(plan: Plan, results: Mapping[str, CaseResult]) -> EvidenceCheck:
    """§6 증적 요구사항 (필수): a screenshot for every case; for a failure, an error/log link too (the
    browser's failing calls with their times serve for automated cases; a manual failure needs
    log_link). Missing evidence is ERROR: the run cannot PASS without it."""
    rows = []
    found: list[Finding] = []
    for cid, r in results.items():
        missing = []
        if r.image is None:
            missing.append("스크린샷 (screenshot)")
        failed = any(f.outcome.is_problem for f in r.findings)
        link = ""
        if r.mode == "manual":
            manual = plan.manual.get(cid)
            link = manual.log_link if manual else ""
            if failed and not link:
                missing.append("에러/로그 링크 (Sentry issue URL or Supabase log timestamp)")
        elif failed:
            link = "브라우저가 기록한 실패 호출과 시각 (failing calls recorded with their time)"
        rows.append(
            {
                "케이스": cid,
                "방식 (mode)": "수동 (by hand)" if r.mode == "manual" else "브라우저 (headless Chromium)",
                "스크린샷": r.screenshot.name if r.image is not None and r.screenshot else "없음 (missing)",
                "실패 시 링크": link or ("-" if not failed else "없음 (missing)"),
                "증적": "완비 (complete)" if not missing else "누락: " + ", ".join(missing),
            }
        )
        if missing:
            # a case that never ran (blocked by a failed login) has no screenshot for the same reason
            blocked = next((f.cause for f in r.findings if f.outcome is Outcome.ERROR and f.cause), "")
            found.append(
                Finding(
                    check="smoke.evidence",
                    subject=cid,
                    outcome=Outcome.ERROR,
                    section=f"{SECTION} 증적 요구사항 (필수)",
                    title=f"{cid} 증적 누락 (evidence missing)",
                    detail=f"{', '.join(missing)}: 증적 없이는 PASS 불가 (no PASS without evidence)",
                    cause=blocked,
                )
            )
    complete = not found
    if complete:
        found.append(
            Finding(
                check="smoke.evidence",
                outcome=Outcome.OK,
                section=f"{SECTION} 증적 요구사항 (필수)",
                title="증적 (evidence): 케이스마다 스크린샷",
                value=len(results),
                unit="건",
                detail=f"{len(results)}/{len(results)} 케이스에 스크린샷 (a screenshot for every case)",
            )
        )
    return EvidenceCheck(pd.DataFrame(rows), tuple(found), complete)


def exit_check(results: Mapping[str, CaseResult], evidence: EvidenceCheck) -> ExitCheck:
    """The smoke's own exit: Quick 7 all passed, with evidence. None when a case could not be judged."""
    passed = [cid for cid, r in results.items() if r.passed]
    unjudged = [cid for cid, r in results.items() if any(f.outcome is Outcome.ERROR for f in r.findings)]
    failing = [cid for cid, r in results.items() if any(f.outcome.is_problem for f in r.findings)]
    shots = sum(1 for r in results.values() if r.image is not None)
    tail = f"증적 {shots}/{len(results)}"
    if failing:
        return ExitCheck(
            ExitState(False, f"미충족: {', '.join(failing)} 실패 · 통과 {len(passed)}/{len(results)} · {tail}")
        )
    if unjudged or not evidence.complete:
        why = ", ".join(unjudged) or "증적 누락"
        return ExitCheck(ExitState(None, f"판정 불가: {why} · 통과 {len(passed)}/{len(results)} · {tail}"))
    return ExitCheck(ExitState(True, f"충족: Quick 7 통과 {len(passed)}/{len(results)} · {tail}"))


def summary_frame(results: Mapping[str, CaseResult]) -> pd.DataFrame:
    rows = []
    for cid, r in results.items():
        worst = min(
            (f for f in r.findings if f.outcome.is_problem and f.severity),
            key=lambda f: f.severity.rank if f.severity else 9,
            default=None,
        )
        outcome = (
            worst.outcome.value if worst else ("ERROR" if any(f.outcome is Outcome.ERROR for f in r.findings) else "OK")
        )
        rows.append(
            {
                "케이스": cid,
                "영역": r.case.area,
                "핵심 (core)": "핵심" if r.case.core else "비핵심",
                "방식": "수동" if r.mode == "manual" else "브라우저",
                "결과": outcome,
                "심각도": worst.severity.value if worst and worst.severity else "",
                "본 것 (what was seen)": _clip(mask_text(r.detail), 160),
            }
        )
    return pd.DataFrame(rows)


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, marked when cut (a bare cut read as a sentence ending in "(")."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def timing(plan: Plan, results: Mapping[str, CaseResult] | None = None) -> Timing:
    """§6 실행 원칙: within 10-15 minutes of the production deploy. The deploy time and the smoke's
    time are recorded; a run (or a manual case tested) later than 15 minutes after it is flagged."""
    check = checks.get("smoke.minutes_after_deploy")
    rows = [
        {"무엇": "배포 완료 (deploy)", "시각": timewindow.kst(plan.deploy_time, "%Y-%m-%d %H:%M:%S KST")},
        {"무엇": "스모크 시작 (smoke started)", "시각": timewindow.kst(plan.started_at, "%Y-%m-%d %H:%M:%S KST")},
    ]
    if plan.release:
        rows.insert(0, {"무엇": "릴리즈 (release)", "시각": plan.release})
    latest = plan.started_at
    for r in (results or {}).values():
        if r.mode == "manual" and r.seen_at is not None:
            rows.append({"무엇": f"{r.case.id} 수동 시험", "시각": timewindow.kst(r.seen_at, "%Y-%m-%d %H:%M:%S KST")})
            latest = max(latest, r.seen_at)
    frame = pd.DataFrame(rows)
    if plan.deploy_time is None:
        f = checks.evaluate(
            check, None, detail="배포 시각이 주어지지 않음 (no deploy_time: the 10-15 minute rule is not judged)"
        )
        return Timing(frame, (f,), f.detail)
    minutes = (latest - plan.deploy_time).total_seconds() / 60
    sentence = f"배포 후 {minutes:.1f}분에 스모크 (smoke {minutes:.1f} min after the deploy; rule: within 10-15 min)"
    f = checks.evaluate(check, round(minutes, 1), detail=sentence)
    return Timing(frame, (f,), sentence)
