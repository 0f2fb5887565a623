"""The Quick 7 in a real headless browser: Debian's chromium driven by Playwright (no browser download).

Each automated case runs its steps (checks/smoke.yaml) in a fresh browser context that starts from a
session logged in through the app's own login form (one login per account, reused; T1 logs in itself).
Every document, fetch and XHR response is recorded (path only: query strings can hold tokens), with
uncaught script errors, so a failure names the call that failed. One screenshot per case, taken where
the case ended, with the account's identifiers blacked out (plan.mask).

Playwright's sync API refuses to run on a thread with an asyncio loop (the notebook kernel's main
thread has one), so the whole browser session runs on a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opslib.masking import mask_text, redact_text
from opslib.results import Severity
from opslib.smoke.cases import Account, Case, Plan, Step

BROWSER_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync")
VIEWPORT = {"width": 1280, "height": 800}
POLL_S = 0.1

# navigator.share and the clipboard are recorded, not performed: headless Chromium has no share sheet,
# and the smoke test must not leave the tester's clipboard changed.
SHARE_PROBE = """
window.__opsbookShare = [];
(() => {
  const record = (kind) => function () { window.__opsbookShare.push(kind); return Promise.resolve(); };
  try { Object.defineProperty(Navigator.prototype, 'share', {value: record('share'), configurable: true}); }
  catch (e) {}
  try { if (navigator.clipboard) { navigator.clipboard.writeText = record('clipboard'); } } catch (e) {}
})();
"""


@dataclass(frozen=True)
class Call:
    """One response (or a request that got none) seen while a case ran."""

    at: datetime
    kind: str  # document | fetch | xhr
    method: str
    path: str  # masked, without the query string
    status: int | None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 400

    @property
    def server_error(self) -> bool:
        return self.status is None or self.status >= 500

    def line(self) -> str:
        said = f"HTTP {self.status}" if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.path} → {said}"


@dataclass(frozen=True)
class StepResult:
    step: Step
    ok: bool
    sentence: str
    seconds: float


@dataclass(frozen=True)
class CaseRun:
    """What happened to one case in the browser."""

    case: Case
    status: str  # passed | failed | blocked | error
    steps: tuple[StepResult, ...]
    screenshot: Path | None
    calls: tuple[Call, ...]
    page_errors: tuple[str, ...]
    started_at: datetime
    seconds: float
    detail: str = ""
    severity: Severity | None = None  # of the failed step
    latency_s: float | None = None  # T4
    # blocked: the failed login that stopped it, keyed by the account's email (masked when shown), not
    # its role: T7's admin role runs on the main account unless given one, so one failure blocks both
    blocked_by: str = ""


class StepFailed(Exception):
    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass
class _CaseContext:
    """The browser side of one case: its page(s), what they called, what the case measured."""

    plan: Plan
    case: Case
    page: Any
    calls: list[Call] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    last_document: Call | None = None
    extra_pages: list[Any] = field(default_factory=list)
    latency_s: float | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.plan.base_url + path

    def path(self) -> str:
        return relative_path(self.page.url, self.plan.base_url)

    def calls_since(self, at: float) -> list[Call]:
        moment = datetime.fromtimestamp(at, UTC)
        return [c for c in self.calls if c.at >= moment]


def relative_path(url: str, base_url: str) -> str:
    """The app path of a URL, without the base URL's own path prefix ('' reads as '/')."""
    path = urlsplit(url).path or "/"
    prefix = urlsplit(base_url).path.rstrip("/")
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    return path


def _clean(text: str, plan: Plan) -> str:
    """Whatever a browser error says, without a password or a personal identifier."""
    secrets = [a.password() for a in plan.accounts.values()]
    first = (text or "").strip().splitlines()[0] if text and text.strip() else ""
    return mask_text(redact_text(first[:300], secrets)[0])


def drive(plan: Plan, facts: Mapping[str, Any] | None = None) -> tuple[CaseRun, ...]:
    """Run every automated case of the plan (on a worker thread); never raises for a broken app."""
    cases = plan.automated
    if not cases:
        return ()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="opsbook-smoke-browser") as pool:
        return pool.submit(_drive, plan, dict(facts or {})).result()


def _unrunnable(plan: Plan, why: str) -> tuple[CaseRun, ...]:
    now = datetime.now(UTC)
    return tuple(CaseRun(c, "error", (), None, (), (), now, 0.0, why) for c in plan.automated)


def _drive(plan: Plan, facts: dict[str, Any]) -> tuple[CaseRun, ...]:
    if not plan.chromium or not Path(plan.chromium).exists():
        return _unrunnable(
            plan,
            f"Chromium을 찾지 못함 (no Chromium at {plan.chromium or 'chromium on PATH'}): "
            "apt-get install chromium, or set $OPSBOOK_CHROMIUM / -p chromium_path",
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _unrunnable(plan, "the playwright package is not installed (pip install -e .)")
    plan.screenshots.mkdir(parents=True, exist_ok=True)
    runs: list[CaseRun] = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=plan.chromium, headless=True, args=list(BROWSER_ARGS))
            try:
                sessions = _Sessions(plan, browser)
                for case in plan.automated:
                    runs.append(_run_case(plan, browser, sessions, case, facts))
            finally:
                browser.close()
    except Exception as exc:  # the browser itself failed (not the app): the cases left are ERROR
        done = {r.case.id for r in runs}
        why = f"브라우저 실행 실패 (the browser failed): {_clean(f'{type(exc).__name__}: {exc}', plan)}"
        now = datetime.now(UTC)
        runs += [CaseRun(c, "error", (), None, (), (), now, 0.0, why) for c in plan.automated if c.id not in done]
    return tuple(runs)


class _Sessions:
    """One login per account through the login form; its cookies/storage reused by every case."""

    def __init__(self, plan: Plan, browser: Any) -> None:
        self.plan = plan
        self.browser = browser
        self.states: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, str] = {}

    def known_failure(self, role: str, sentence: str) -> None:
        self.failures[self.plan.accounts[role].email] = sentence

    def state(self, role: str) -> dict[str, Any] | None:
        """The logged-in state of the account, or None (see failure())."""
        account = self.plan.accounts[role]
        if account.email in self.states:
            return self.states[account.email]
        if account.email in self.failures:
            return None
        context = new_context(self.browser, None)
        try:
            page = context.new_page()
            failed = login(page, self.plan, account)
            if failed:
                self.failures[account.email] = failed
                return None
            self.states[account.email] = context.storage_state()
            return self.states[account.email]
        finally:
            context.close()

    def failure(self, role: str) -> str:
        return self.failures.get(self.plan.accounts[role].email, "")


def new_context(browser: Any, state: dict[str, Any] | None) -> Any:
    context = browser.new_context(
        viewport=VIEWPORT, locale="ko-KR", timezone_id="Asia/Seoul", storage_state=state, ignore_https_errors=False
    )
    context.add_init_script(script=SHARE_PROBE)
    return context


def login(page: Any, plan: Plan, account: Account) -> str:
    """Log in through the form; '' on success, else one sentence (never the password)."""
    timeout_ms = plan.step_timeout_s * 1000
    form = plan.login
    try:
        response = page.goto(plan.base_url + form.route, timeout=timeout_ms * 2)
        if response is not None and response.status >= 400:
            return f"로그인 화면이 HTTP {response.status} (the login page answered {response.status})"
        page.locator(form.email).first.fill(account.email, timeout=timeout_ms)
        page.locator(form.password).first.fill(account.password(), timeout=timeout_ms)
        page.locator(form.submit).first.click(timeout=timeout_ms)
        page.wait_for_url(lambda u: relative_path(u, plan.base_url) != form.route, timeout=timeout_ms)
        page.wait_for_load_state("load", timeout=timeout_ms)
    except Exception as exc:
        where = relative_path(page.url, plan.base_url)
        if where == form.route and "Timeout" in type(exc).__name__:
            return (
                f"로그인 후에도 {form.route}에 머묾 (still on {form.route} after submitting: a login loop, "
                "or the test account was rejected)"
            )
        return f"로그인 실패 (login failed): {_clean(str(exc), plan)}"
    # a loop may leave the login page for a moment (home, then straight back): look again once settled
    _settle(page, timeout_ms)
    if relative_path(page.url, plan.base_url) == form.route:
        return f"로그인 후 다시 {form.route}로 돌아옴 (sent back to the login page after logging in: a login loop)"
    return ""


def _settle(page: Any, timeout_ms: float) -> None:
    # a page that keeps polling (chat) never goes idle; what it shows is judged by the steps
    with contextlib.suppress(Exception):
        page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 3000))


def _watch(ctx: _CaseContext, context: Any) -> None:
    def on_response(response: Any) -> None:
        request = response.request
        kind = request.resource_type
        if kind not in ("document", "fetch", "xhr"):
            return
        call = Call(datetime.now(UTC), kind, request.method, _path(response.url), response.status)
        ctx.calls.append(call)
        if kind == "document" and request.is_navigation_request():
            ctx.last_document = call

    def on_failed(request: Any) -> None:
        failure = request.failure or ""
        if request.resource_type not in ("document", "fetch", "xhr") or "ERR_ABORTED" in failure:
            return  # a navigation that moved on cancels its pending calls: not an error of the app
        ctx.calls.append(
            Call(datetime.now(UTC), request.resource_type, request.method, _path(request.url), None, failure)
        )

    context.on("response", on_response)
    context.on("requestfailed", on_failed)


def _watch_page(ctx: _CaseContext, page: Any) -> None:
    page.on("pageerror", lambda err: ctx.page_errors.append(_clean(str(err), ctx.plan)))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return mask_text(parts.path or "/") + ("?…" if parts.query else "")


def _run_case(plan: Plan, browser: Any, sessions: _Sessions, case: Case, facts: Mapping[str, Any]) -> CaseRun:
    started = datetime.now(UTC)
    t0 = time.monotonic()
    state = None
    if case.account != "none":
        state = sessions.state(case.account)
        if state is None:
            why = sessions.failure(case.account)
            return CaseRun(
                case,
                "blocked",
                (),
                None,
                (),
                (),
                started,
                time.monotonic() - t0,
                f"실행 불가 (not run): {case.account} 계정 로그인 실패 ({why})",
                blocked_by=f"실행 불가 (not run): {plan.accounts[case.account].email} 로그인 실패 ({why})",
            )
    context = new_context(browser, state)
    try:
        page = context.new_page()
        ctx = _CaseContext(plan, case, page, facts=facts)
        _watch(ctx, context)
        _watch_page(ctx, page)
        results: list[StepResult] = []
        failed: tuple[Step, str] | None = None
        for step in case.steps:
            s0 = time.monotonic()
            try:
                sentence = OPS[step.op](ctx, step, sessions)
                results.append(StepResult(step, True, sentence, time.monotonic() - s0))
            except StepFailed as exc:
                sentence = exc.sentence + _document_note(ctx)
                results.append(StepResult(step, False, sentence, time.monotonic() - s0))
                failed = (step, sentence)
                break
            except Exception as exc:  # a Playwright error the step did not expect: the case failed here
                sentence = f"{step.what}: {_clean(f'{type(exc).__name__}: {exc}', plan)}" + _document_note(ctx)
                results.append(StepResult(step, False, sentence, time.monotonic() - s0))
                failed = (step, sentence)
                break
        shot = _screenshot(ctx)
        for extra in ctx.extra_pages:
            extra.context.close()
    finally:
        context.close()
    status = "failed" if failed else "passed"
    severity = (failed[0].severity or case.severity) if failed else None
    return CaseRun(
        case,
        status,
        tuple(results),
        shot,
        tuple(ctx.calls),
        tuple(ctx.page_errors),
        started,
        time.monotonic() - t0,
        failed[1] if failed else "",
        severity,
        ctx.latency_s,
    )


def _document_note(ctx: _CaseContext) -> str:
    doc = ctx.last_document
    if doc is not None and doc.failed:
        return f" · 페이지 응답 HTTP {doc.status} ({doc.path})"
    return ""


def _screenshot(ctx: _CaseContext) -> Path | None:
    target = ctx.plan.screenshots / f"{ctx.case.id}.png"
    try:
        masks = [ctx.page.locator(m) for m in ctx.plan.mask]
        ctx.page.screenshot(path=str(target), mask=masks, animations="disabled", timeout=10_000)
        if ctx.extra_pages:
            # T4 "2디바이스": both devices side by side in the one screenshot of the case
            shots = [target]
            for i, extra in enumerate(ctx.extra_pages):
                other = target.with_name(f".{ctx.case.id}-device{i + 2}.png")
                extra.screenshot(path=str(other), mask=[extra.locator(m) for m in ctx.plan.mask], timeout=10_000)
                shots.append(other)
            side_by_side(shots, target)
            for other in shots[1:]:
                other.unlink(missing_ok=True)
    except Exception:
        return target if target.is_file() else None
    return target


def side_by_side(images: list[Path], target: Path, gap: int = 12) -> None:
    from PIL import Image

    opened = [Image.open(p).convert("RGB") for p in images]
    width = sum(i.width for i in opened) + gap * (len(opened) - 1)
    height = max(i.height for i in opened)
    canvas = Image.new("RGB", (width, height), (90, 90, 90))
    x = 0
    for img in opened:
        canvas.paste(img, (x, 0))
        x += img.width + gap
    canvas.save(target, format="PNG", optimize=True)


# --- steps --------------------------------------------------------------------------------------


def _timeout(ctx: _CaseContext) -> float:
    return ctx.plan.step_timeout_s


def _poll(ctx: _CaseContext, check: Callable[[], bool], timeout_s: float, since: float = 0.0) -> bool:
    """Wait for check() (every 100 ms); give up at once when the page shown is an HTTP error page
    (nothing will appear on it), e.g. the detail a click led to answered 500."""
    end = time.monotonic() + timeout_s
    while True:
        try:
            if check():
                return True
        except Exception:
            pass  # the page navigated between two looks: look again
        doc = ctx.last_document
        if doc is not None and doc.failed:
            return False
        if time.monotonic() >= end:
            return False
        ctx.page.wait_for_timeout(POLL_S * 1000)


def _visible(locator: Any) -> bool:
    return locator.count() > 0 and locator.first.is_visible()


def op_goto(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    path = str(step.arg("path", "/"))
    response = ctx.page.goto(ctx.url(path), timeout=_timeout(ctx) * 2000)
    if response is not None and response.status >= 400:
        raise StepFailed(f"{step.what}: HTTP {response.status} ({path})")
    return f"{path} → {ctx.path()}"


def op_login(ctx: _CaseContext, step: Step, sessions: _Sessions) -> str:
    role = str(step.arg("account", "main"))
    failed = login(ctx.page, ctx.plan, ctx.plan.accounts[role])
    if failed:
        sessions.known_failure(role, failed)  # every case of this account would fail the same way
        raise StepFailed(f"{step.what}: {failed}")
    return f"로그인됨 → {ctx.path()}"


def op_expect_path(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    want = str(step.arg("path"))
    since = time.time()
    if not _poll(ctx, lambda: ctx.path() == want, _timeout(ctx), since):
        raise StepFailed(f"{step.what}: {want}가 아니라 {ctx.path()}에 있음 (at {ctx.path()}, expected {want})")
    return f"at {want}"


def op_expect_visible(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    loc = ctx.page.locator(str(step.arg("selector")))
    if not _poll(ctx, lambda: _visible(loc), _timeout(ctx), time.time()):
        raise StepFailed(f"{step.what}: 보이지 않음 (not seen within {_timeout(ctx):g} s)")
    return "보임 (seen)"


def op_expect_count(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    loc = ctx.page.locator(str(step.arg("selector")))
    want = int(step.arg("min", 1))
    since = time.time()
    if not _poll(ctx, lambda: loc.count() >= want and loc.first.is_visible(), _timeout(ctx), since):
        errors = [c for c in ctx.calls_since(since - _timeout(ctx)) if c.kind != "document" and c.failed]
        said = f"; {errors[-1].line()}" if errors else ""
        raise StepFailed(f"{step.what}: {loc.count()}개 (found {loc.count()}, expected at least {want}){said}")
    return f"{loc.count()}개"


def _enabled(loc: Any) -> bool:
    first = loc.first
    return first.is_enabled() and (first.get_attribute("aria-disabled") or "").lower() != "true"


def op_expect_enabled(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    loc = ctx.page.locator(str(step.arg("selector")))
    if not _poll(ctx, lambda: _visible(loc), _timeout(ctx), time.time()):
        raise StepFailed(f"{step.what}: 보이지 않음 (not seen within {_timeout(ctx):g} s)")
    if not _poll(ctx, lambda: _enabled(loc), min(1.0, _timeout(ctx)), time.time()):
        raise StepFailed(f"{step.what}: 비활성 (disabled)")
    return "활성 (enabled)"


def op_click(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    loc = ctx.page.locator(str(step.arg("selector")))
    if not _poll(ctx, lambda: _visible(loc), _timeout(ctx), time.time()):
        raise StepFailed(f"{step.what}: 누를 대상이 보이지 않음 (nothing to click within {_timeout(ctx):g} s)")
    loc.first.click(timeout=_timeout(ctx) * 1000)
    with contextlib.suppress(Exception):
        ctx.page.wait_for_load_state("load", timeout=_timeout(ctx) * 1000)
    return "눌림 (clicked)"


def judge_list(
    items: int, empty_shown: bool, error_shown: bool, failed_calls: list[str], db_count: int | None
) -> tuple[bool, str]:
    """T3: a list, or an empty state that is really empty. An empty list is an error in disguise when a
    call behind it failed, or when the database says the account has rows to show."""
    if error_shown:
        return False, "오류 화면 표시 (the page shows an error)" + (f": {failed_calls[0]}" if failed_calls else "")
    if items > 0:
        return True, f"목록 {items}건 (listed)"
    if failed_calls:
        return False, (
            f"에러가 빈 상태로 위장됨 (an error disguised as an empty state): 목록이 비었는데 {failed_calls[0]}"
        )
    if db_count:
        return False, (
            f"에러가 빈 상태로 위장됨 (an error disguised as an empty state): 빈 화면인데 DB에는 이 계정의 "
            f"구독 {db_count}건 (the database holds {db_count} live rows for this account)"
        )
    if not empty_shown:
        return False, "목록도 빈 상태 안내도 없음 (neither a list nor an empty state: still loading?)"
    if db_count == 0:
        return True, "정직한 빈 상태 (honestly empty: the account has none in the database either)"
    return True, "빈 상태, 호출 오류 없음 (empty, every call answered 2xx/3xx; not cross-checked with the database)"


def op_list_or_honest_empty(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    page = ctx.page
    items, empty, error = (page.locator(str(step.arg(k))) for k in ("items", "empty", "error"))
    since = time.time() - _timeout(ctx) * 2  # the calls of the goto before this step count
    _settle(page, _timeout(ctx) * 1000)
    _poll(ctx, lambda: items.count() > 0 or _visible(empty) or _visible(error), _timeout(ctx), time.time())
    failed = [c.line() for c in ctx.calls_since(since) if c.kind in ("fetch", "xhr") and c.failed] + [
        f"script error: {e}" for e in ctx.page_errors
    ]
    ok, sentence = judge_list(
        items.count(),
        _visible(empty),
        _visible(error),
        failed,
        ctx.facts.get(str(step.arg("db_count", "subscriptions"))),
    )
    if not ok:
        raise StepFailed(f"{step.what}: {sentence}")
    return sentence


def op_roundtrip(ctx: _CaseContext, step: Step, sessions: _Sessions) -> str:
    """T4: a second browser context (the second device) opens the same thread; a message typed and sent
    in the first must appear in the second. Latency: from the click on send to the text being visible."""
    from opslib import checks

    role = str(step.arg("account", "peer"))
    state = sessions.state(role)
    if state is None:
        raise StepFailed(
            f"{step.what}: 두 번째 기기 로그인 실패 (second device could not log in: {sessions.failure(role)})"
        )
    other_context = new_context(ctx.page.context.browser, state)
    _watch(ctx, other_context)
    other = other_context.new_page()
    _watch_page(ctx, other)
    ctx.extra_pages.append(other)
    path = str(step.arg("path", "/messages"))
    response = other.goto(ctx.url(path), timeout=_timeout(ctx) * 2000)
    if response is not None and response.status >= 400:
        raise StepFailed(f"{step.what}: 두 번째 기기에서 HTTP {response.status} ({path})")
    box = ctx.page.locator(str(step.arg("input")))
    if not _poll(ctx, lambda: _visible(box), _timeout(ctx), time.time()):
        raise StepFailed(f"{step.what}: 입력창이 보이지 않음 (no message input)")
    token = f"opsbook smoke {ctx.plan.run_tag}-{int(time.time() * 1000) % 100000}"
    box.first.fill(token, timeout=_timeout(ctx) * 1000)
    # the second device must have its thread loaded before the message is sent (a chat keeps polling or
    # holds a socket open: it never goes network-idle, so wait for the page, not for silence)
    other.wait_for_load_state("load", timeout=_timeout(ctx) * 1000)
    critical = checks.get("smoke.realtime_latency").critical or 5.0
    t0 = time.monotonic()
    ctx.page.locator(str(step.arg("send"))).first.click(timeout=_timeout(ctx) * 1000)
    seen = other.locator(str(step.arg("message")), has_text=token)
    try:
        seen.first.wait_for(state="visible", timeout=critical * 1000)
    except Exception:
        raise StepFailed(
            f"{step.what}: 보낸 메시지가 {critical:g}초 안에 다른 기기에 나타나지 않음 "
            f"(not seen on the second device within {critical:g} s)"
        ) from None
    ctx.latency_s = round(time.monotonic() - t0, 2)
    return f"{ctx.latency_s:g}초 만에 수신 (seen after {ctx.latency_s:g} s)"


def op_share(ctx: _CaseContext, step: Step, _sessions: _Sessions) -> str:
    page = ctx.page
    button = page.locator(str(step.arg("button")))
    shown = _poll(ctx, lambda: _visible(button), _timeout(ctx), time.time())
    if ctx.plan.share_policy == "disabled":
        if not shown:
            return "공유 버튼 없음: 비활성 정책 준수 (no share button, as the policy says)"
        if not _enabled(button):
            return "공유 버튼 비활성: 정책 준수 (disabled, as the policy says)"
        raise StepFailed(f"{step.what}: 정책은 비활성인데 공유 버튼이 활성 (enabled although the policy disables it)")
    if not shown:
        raise StepFailed(f"{step.what}: 공유 버튼이 보이지 않음 (no share button within {_timeout(ctx):g} s)")
    if not _enabled(button):
        raise StepFailed(f"{step.what}: 공유 버튼이 비활성 (the share button is disabled; policy: enabled)")
    button.first.click(timeout=_timeout(ctx) * 1000)
    done = page.locator(str(step.arg("done")))

    def shared() -> bool:
        return bool(page.evaluate("() => (window.__opsbookShare || []).length")) or _visible(done)

    if not _poll(ctx, shared, _timeout(ctx), time.time()):
        raise StepFailed(f"{step.what}: 눌러도 공유가 일어나지 않음 (clicked, nothing was shared)")
    how = page.evaluate("() => (window.__opsbookShare || []).join(', ')") or "share sheet"
    return f"공유 동작 (shared via {how})"


OPS: dict[str, Callable[[_CaseContext, Step, _Sessions], str]] = {
    "goto": op_goto,
    "login": op_login,
    "expect_path": op_expect_path,
    "expect_visible": op_expect_visible,
    "expect_count": op_expect_count,
    "expect_enabled": op_expect_enabled,
    "click": op_click,
    "list_or_honest_empty": op_list_or_honest_empty,
    "roundtrip": op_roundtrip,
    "share": op_share,
}
