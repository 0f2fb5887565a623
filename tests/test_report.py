"""The report an on-call engineer reads first: verdict on top, what to do now, one cause counted once,
long tables folded, numbers written for people. Pure rendering (the drill test runs it for real)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import nbformat
import pandas as pd

from opslib import checks, evidence, page, timewindow
from opslib.actions import ActionOutcome, ActionRequest, command_line
from opslib.db import normalise_url
from opslib.results import (
    FINDINGS_MIME,
    RESULT_MIME,
    ExitState,
    Finding,
    Mitigation,
    Outcome,
    Severity,
    Verdict,
    group_by_cause,
)

STUCK = "PG 승인 · DB 미반영 (paid at the PG, not paid in the DB)"


def _finding(check: str, value: int, *, severity=Severity.P0, cause: str = "", items=(), subject=None) -> Finding:
    return Finding(
        check=check,
        outcome=Outcome.CRITICAL,
        section="§3-A",
        title=f"{check} title (words)",
        severity=severity,
        value=value,
        unit="건",
        subject=subject,
        cause=cause,
        cause_items=frozenset(items),
    )


def _book() -> page.Page:
    now = datetime.now(UTC)
    return page.Page(
        "payments", "demo", timewindow.Window(now - timedelta(hours=1), now), normalise_url("postgresql://u@h/d")
    )


def test_people_read_durations_and_counts():
    assert page.format_value(2201.839, "초") == "36분 42초"
    assert page.format_value(19.44, "초") == "19.4초"
    assert page.format_value(7200, "초") == "2시간"
    assert page.format_value(569, "건") == "569건"
    assert page.format_value(12345, "원") == "12,345원"
    assert page.format_value(7.774, "%") == "7.77%"
    assert page.format_value(None, "%") == "-"
    frame = pd.DataFrame({"age_s": [2401.4, None], "amount_krw": [11000, 5500]})
    html = page.readable(frame).to_html()
    assert "40분 1초" in html and "11,000" in html


def test_equal_warning_and_critical_thresholds_are_printed_once():
    text = checks.get("payments.negative_balance").threshold_text()
    assert text.count(">") == 1 and "(P0)" in text and "경고" not in text, text
    both = checks.get("payments.webhook_success_rate").threshold_text()
    assert "경고" in both and "위험" in both


def test_one_cause_seen_by_two_checks_is_said_once_and_counted_once():
    orders = [f"portone:o{i}" for i in range(569)]
    triage = _finding("payments.pg_paid_db_pending", 569, cause=STUCK, items=orders, subject="portone")
    window = _finding("payments.recon_status_mismatch", 569, cause=STUCK, items=orders, subject="window")
    day = _finding("payments.recon_status_mismatch", 329, cause=STUCK, items=orders[:329], subject="day")
    other = _finding("payments.webhook_success_rate", 7, subject="portone")
    groups, singles = group_by_cause([triage, window, day, other])
    assert [g.items for g in groups] == [569], "the union of the orders, not 569 + 569 + 329"
    assert singles == [other]
    book = _book()
    html = page.verdict_html(Verdict.FAIL, [triage, window, day, other], book)
    assert html.count(STUCK) == 1 and "569건" in html and "1,467" not in html
    assert "payments.recon_status_mismatch title" in html and "payments.pg_paid_db_pending title" in html


def test_the_banner_says_what_to_do_now_and_the_exit_state():
    request = ActionRequest(reason="§3-A mitigation", wi_id="WI-7")
    command = command_line("payments-kill-switch", request)
    assert (
        command
        == "opsbook action payments-kill-switch --confirm payments-kill-switch --wi WI-7 --reason '§3-A mitigation'"
    )
    outcome = ActionOutcome(
        "payments-kill-switch", "flag", False, True, {"enabled": True}, {"enabled": False}, command=command
    )
    assert outcome.mitigation == Mitigation("payments-kill-switch", outcome.mitigation.label, command, True, "")
    book = _book()
    book.mitigate(outcome.mitigation)
    book.mitigate(Mitigation("payments-maintenance-banner", "banner", "opsbook action b --confirm b", False))
    book.exit_state(False, "미충족: webhook 성공률 0 %")
    html = page.verdict_html(Verdict.FAIL, [_finding("payments.double_credit", 3)], book)
    assert "지금 할 일" in html and command.replace("'", "&#x27;") in html
    assert "이미 적용됨" in html, "a mitigation already in place says so instead of a command"
    assert "종료 조건" in html and "미충족 (not met)" in html
    assert "상황 업데이트 주기 15분" in html
    passed = page.verdict_html(Verdict.PASS, [], book)
    assert "지금 할 일" not in passed, "nothing to do when nothing is wrong"


def test_long_tables_fold_and_say_how_many_rows():
    frame = pd.DataFrame({"order_id": [f"o{i}" for i in range(120)], "n": range(120)})
    html = page.table_html(frame, "stuck orders", max_rows=50, first_rows=10)
    assert "(120행)" in html
    shown, folded = html.split("<details", 1)
    assert "o9<" in shown and "o10<" not in shown
    assert "40행 더 보기" in folded and "o49<" in folded and "o50<" not in folded
    assert "70행 생략" in html
    assert html.count("class='opsbook-scroll'") == 2
    assert "<details" not in page.table_html(frame.head(5), "short")


def _executed(with_result: bool) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    finding = _finding("payments.pg_paid_db_pending", 5)
    found = nbformat.v4.new_output(
        "display_data", data={FINDINGS_MIME: {"runbook": "payments", "findings": [finding.to_json()]}}
    )
    cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("step()", outputs=[found]),
    ]
    if with_result:
        banner = nbformat.v4.new_output(
            "display_data",
            data={RESULT_MIME: {"verdict": "FAIL"}, "text/html": "<div class='opsbook-verdict'>BANNER</div>"},
        )
        cells.append(nbformat.v4.new_code_cell("book.finish()", outputs=[banner]))
    else:
        cells.append(
            nbformat.v4.new_code_cell(
                "boom()",
                outputs=[nbformat.v4.new_output("error", ename="QueryFailed", evalue="timeout\nmore", traceback=[])],
            )
        )
    nb.cells = cells
    return nb


def test_the_html_report_puts_the_verdict_first_and_the_notebook_keeps_run_order(tmp_path):
    nb = _executed(with_result=True)
    report = evidence.verdict_first(nb)
    top = report.cells[0].outputs[0].data["text/html"]
    assert "BANNER" in top
    last = report.cells[-1].outputs[0].data["text/html"]
    assert "BANNER" not in last and "#opsbook-top" in last
    assert "BANNER" in nb.cells[-1].outputs[0].data["text/html"], "the executed notebook is not changed"
    evidence.export_html(nb, tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert text.count("BANNER") == 1 and text.index("BANNER") < text.index("<h1")


def test_a_page_that_stopped_still_opens_with_an_error_banner():
    report = evidence.verdict_first(_executed(with_result=False))
    top = report.cells[0].outputs[0].data["text/html"]
    assert "data-verdict='ERROR'" in top and "QueryFailed: timeout" in top
    assert "payments.pg_paid_db_pending title" in top, "what the page found before it stopped"


def test_exit_state_is_declared_by_the_step_result():
    state = ExitState(None, "판정 불가")
    assert state.to_json() == {"met": None, "sentence": "판정 불가", "since": None, "hold_minutes": None}


def test_table_cells_are_shown_as_text_never_as_html():
    # a stack trace's "<anonymous>" vanished; an <img> in a row would be fetched when the report opens
    frame = pd.DataFrame(
        {"first_message": ["at <anonymous> (index.ts:3)", "<img src='https://evil.example/x.png'> & more"], "n": [1, 2]}
    )
    html = page.table_html(frame, "Edge Function 에러 로그")
    assert "at &lt;anonymous&gt; (index.ts:3)" in html
    assert "<img" not in html and "&lt;img src=&#39;https://evil.example/x.png&#39;&gt; &amp; more" in html


def test_a_callout_shows_its_placeholders_and_keeps_its_code_spans():
    from nbconvert.filters.markdown import markdown2html

    sentence = "수동 확인: Sentry → Releases → <release> → New Issues; then `opsbook run <page> --wi X` & go"
    said = page.markdown_text(sentence)
    rendered = markdown2html(f"> **{said}**")
    assert "Releases → &lt;release&gt; → New Issues" in rendered, rendered
    assert "<code>opsbook run &lt;page&gt; --wi X</code>" in rendered, rendered
    assert "&amp; go" in rendered and "<release>" not in rendered


def test_a_banner_line_without_a_number_says_what_happened():
    # the smoke's T1 (a login that failed) has no value: its P0 line read "…리다이렉트: -"
    login = Finding(
        check="smoke.T1",
        outcome=Outcome.CRITICAL,
        section="§6",
        title="T1 인증 (auth): 로그인 → 홈 진입",
        severity=Severity.P0,
        detail="로그인 폼으로 로그인: 로그인 후에도 /login에 머묾 (still on /login after submitting)\n" + "x" * 400,
    )
    html = page.verdict_html(Verdict.FAIL, [login, _finding("payments.double_credit", 3)], _book())
    line = html.split("<b>[P0]</b> T1 인증", 1)[1].split("</li>", 1)[0]
    assert "로그인 후에도 /login에 머묾" in line and ": -" not in line
    assert len(line) < 260 and line.endswith("…"), "one line, however long the detail"
    assert "payments.double_credit title (words): 3건" in html, "a measured value is still what the line shows"


def test_words_read_from_the_left_and_numbers_line_up_on_the_right():
    # JupyterLab's CSS right-aligns every cell: the smoke summary's sentences read off a ragged right edge
    frame = pd.DataFrame(
        {
            "본 것 (what was seen)": ["로그인 후에도 /login에 머묾", "목록 1건"],
            "invocations": [40, 59],
            "p95": [1.5, 2.25],
            "at": pd.to_datetime(["2026-12-03T07:00:00Z", "2026-12-03T07:05:00Z"]),
        }
    )
    html = page.table_html(frame, "summary")
    css = html.split("</style>", 1)[0]
    assert "td.col0 {\n  text-align: left;" in css and " th.col0 {\n  text-align: left;" in css
    assert not any(f"col{i} " in css for i in (1, 2, 3)), css


def test_korean_in_a_narrow_column_wraps_between_words_in_chromium(tmp_path):
    # the incident timeline's 단계 column beside a long event read one syllable a line
    from conftest import report_in_chromium

    frame = pd.DataFrame(
        {"단계": ["런북 페이지 실행"], "이벤트": ["deployment 변경과 함수 5xx 비율 회귀, 배포 후 관찰 중 " * 12]}
    )
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("display_data", data={"text/html": page.table_html(frame, "타임라인")})
    nb.cells = [nbformat.v4.new_code_cell("show()", outputs=[out])]
    evidence.export_html(nb, tmp_path / "r.html")
    with report_in_chromium(tmp_path / "r.html", height=900) as view:
        lines = view.evaluate(
            """() => { const td = document.querySelector('td.col0'); const r = document.createRange();
                 r.selectNodeContents(td); return r.getClientRects().length; }"""
        )
    assert 1 <= lines <= 3, f"'런북 페이지 실행' took {lines} lines"


def test_every_white_space_rule_of_the_report_takes_effect_and_wide_tables_scroll_in_chromium(tmp_path):
    """The report's own CSS for table cells is live (a rule JupyterLab's stylesheet overrides is dead code
    that reads as if cells never wrapped), and a table wider than the page scrolls inside its box."""
    import re
    from importlib import resources

    from conftest import report_in_chromium

    template = (resources.files("opslib") / "templates" / "opsbook_report" / "index.html.j2").read_text("utf-8")
    declared = [
        (selector.strip(), value.strip())
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", template.split("<style", 1)[1])
        for value in re.findall(r"white-space:\s*([a-z-]+)", body)
    ]
    assert declared, "the template declares white-space for its tables"
    sentences = pd.DataFrame({"단계": ["런북 페이지 실행"], "설명": ["배포 후 함수 5xx 비율 회귀 " * 30]})
    wide = pd.DataFrame({f"column_{i:02d}_{'x' * 12}": [f"value_{i}_{'y' * 20}"] for i in range(40)})
    finding = Finding(check="x.y", outcome=Outcome.WARN, section="§2", title="t", detail="긴 설명 " * 80)
    shown = (page.table_html(sentences, "문장"), page.table_html(wide, "넓은 표"), page.findings_html([finding]))
    outputs = [nbformat.v4.new_output("display_data", data={"text/html": html}) for html in shown]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("show()", outputs=outputs)]
    evidence.export_html(nb, tmp_path / "r.html")
    with report_in_chromium(tmp_path / "r.html") as view:
        for selector, value in declared:
            if not re.search(r"\b(td|th)\b", selector):
                continue
            computed = view.eval_on_selector_all(selector, "els => els.map(e => getComputedStyle(e).whiteSpace)")
            assert computed, f"no cell matches {selector!r}: a rule for nothing"
            assert value in computed, f"{selector} {{ white-space: {value} }} never applies: computed {set(computed)}"
        boxes = view.eval_on_selector_all(".opsbook-scroll", "els => els.map(e => [e.scrollWidth, e.clientWidth])")
        page_width = view.evaluate("document.documentElement.scrollWidth")
    (sentence_box, wide_box, findings_box) = boxes
    assert sentence_box[0] <= sentence_box[1] and findings_box[0] <= findings_box[1], "sentences wrap in their box"
    assert wide_box[0] > wide_box[1], "a table wider than the page scrolls inside its box"
    assert page_width <= 1280, f"the page itself scrolls sideways ({page_width} px): a table is cut or overflows"


def test_checks_that_could_not_run_for_one_cause_are_one_banner_line():
    """Six smoke cases blocked by one failed login were six identical ERROR lines (cut at five)."""
    blocked = "실행 불가 (not run): main 계정 로그인 실패"
    errors = [
        Finding(
            check=f"smoke.T{i}",
            outcome=Outcome.ERROR,
            section="§6",
            title=f"T{i} 케이스",
            detail=blocked,
            cause=blocked,
        )
        for i in range(2, 8)
    ]
    other = Finding(check="x.query", outcome=Outcome.ERROR, section="§3", title="조회", detail="timeout")
    html = page.verdict_html(Verdict.ERROR, [*errors, other, other])
    lines = re.findall(r"<li>(.*?)</li>", html, re.S)
    assert len(lines) == 2, lines
    assert "6개 점검" in lines[0] and all(f"T{i} 케이스" in lines[0] for i in range(2, 8)), lines[0]
    assert "조회: timeout" in lines[1]
    assert "측정 실패 8건" in html, "the count still counts every check"
