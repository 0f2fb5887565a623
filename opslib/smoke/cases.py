"""The Quick 7 as data (checks/smoke.yaml), a deployment's overrides, and the plan of one smoke run.

Parsing and checking happen here, once: a bad case file, an unknown step, a core case that would
fail at P2, a manual case without its results file are ConfigErrors before a browser starts.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from opslib import timewindow
from opslib.errors import ConfigError
from opslib.results import Severity

CASE_IDS = ("T1", "T2", "T3", "T4", "T5", "T6", "T7")
STEP_OPS = (
    "goto",
    "login",
    "expect_path",
    "expect_visible",
    "expect_count",
    "expect_enabled",
    "click",
    "list_or_honest_empty",
    "roundtrip",
    "share",
)
ACCOUNTS = ("main", "peer", "admin", "none")

# Where the base URL, the accounts and their passwords come from. Passwords only ever from here.
ENV_BASE_URL = "OPSBOOK_SMOKE_BASE_URL"
ENV_EMAIL = {"main": "OPSBOOK_SMOKE_EMAIL", "peer": "OPSBOOK_SMOKE_PEER_EMAIL", "admin": "OPSBOOK_SMOKE_ADMIN_EMAIL"}
ENV_PASSWORD = {
    "main": "OPSBOOK_SMOKE_PASSWORD",
    "peer": "OPSBOOK_SMOKE_PEER_PASSWORD",
    "admin": "OPSBOOK_SMOKE_ADMIN_PASSWORD",
}
ENV_CHROMIUM = "OPSBOOK_CHROMIUM"
# The bundle folder of the run (set by the runner for the kernel): screenshots are kept there.
ENV_RUN_FOLDER = "OPSBOOK_RUN_FOLDER"
SHARE_POLICIES = ("enabled", "disabled")


@dataclass(frozen=True)
class Step:
    """One step of a case: an operation, its arguments, what a person reads, its severity if lower."""

    op: str
    what: str
    args: Mapping[str, Any]
    severity: Severity | None = None

    def arg(self, name: str, default: Any = None) -> Any:
        return self.args.get(name, default)


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    title: str
    core: bool
    severity: Severity
    evidence: str
    steps: tuple[Step, ...]
    account: str = "main"
    stop_the_bleed: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.id} {self.area}: {self.title}"


@dataclass(frozen=True)
class Login:
    route: str
    email: str
    password: str
    submit: str
    landed: str


@dataclass(frozen=True)
class Account:
    """A test account: its email (a personal identifier: shown masked) and where its password is."""

    role: str
    email: str
    password_env: str

    def password(self) -> str:
        return os.environ.get(self.password_env, "")


@dataclass(frozen=True)
class ManualResult:
    """A case done by hand (on phones): what the tester saw, and the screenshot that shows it."""

    case: str
    passed: bool | None  # None: the file gives no result
    screenshot: Path | None
    tested_at: datetime | None = None
    device: str = ""
    note: str = ""
    log_link: str = ""
    severity: Severity | None = None


@dataclass(frozen=True)
class Plan:
    """Everything one smoke run needs, checked."""

    base_url: str
    cases: tuple[Case, ...]
    login: Login
    mask: tuple[str, ...]
    accounts: Mapping[str, Account]
    manual: Mapping[str, ManualResult]
    manual_cases: tuple[str, ...]
    share_policy: str
    step_timeout_s: float
    chromium: str
    screenshots: Path
    deploy_time: datetime | None
    started_at: datetime
    release: str = ""
    run_tag: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def case(self, case_id: str) -> Case:
        return next(c for c in self.cases if c.id == case_id)

    @property
    def automated(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.id not in self.manual_cases)


@cache
def _raw() -> dict[str, Any]:
    text = (resources.files("opslib") / "checks" / "smoke.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(str(value))
    except ValueError:
        raise ConfigError(f"{where}: severity {value!r} must be one of P0, P1, P2, P3") from None


def parse_step(raw: Mapping[str, Any], where: str) -> Step:
    if not isinstance(raw, Mapping) or "op" not in raw:
        raise ConfigError(f"{where}: a step must be a mapping with an `op`")
    op = str(raw["op"])
    if op not in STEP_OPS:
        raise ConfigError(f"{where}: unknown step op {op!r} (known: {', '.join(STEP_OPS)})")
    sev = _severity(raw["severity"], where) if raw.get("severity") else None
    args = {k: v for k, v in raw.items() if k not in ("op", "what", "severity")}
    return Step(op, str(raw.get("what") or op), args, sev)


def parse_case(raw: Mapping[str, Any], where: str = "checks/smoke.yaml") -> Case:
    try:
        cid = str(raw["id"])
        core = bool(raw["core"])
        severity = _severity(raw["severity"], f"{where} {cid}")
        steps = tuple(parse_step(s, f"{where} {cid} step {i + 1}") for i, s in enumerate(raw["steps"]))
        case = Case(
            id=cid,
            area=str(raw["area"]),
            title=str(raw["title"]),
            core=core,
            severity=severity,
            evidence=str(raw.get("evidence", "스크린샷")),
            steps=steps,
            account=str(raw.get("account", "main")),
            stop_the_bleed=tuple(raw.get("stop_the_bleed") or ()),
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: a case is missing the field {exc.args[0]!r}") from None
    check_case(case, where)
    return case


def is_core_severity(sev: Severity) -> bool:
    return sev.at_least(Severity.P1)


def check_case(case: Case, where: str) -> None:
    """§6: a core case fails at P0/P1 (FAIL); a non-core one at P2/P3 (CONDITIONAL PASS). A step may
    say its failure is lighter, but never crosses that line."""
    if case.id not in CASE_IDS:
        raise ConfigError(f"{where}: case id {case.id!r} is not one of {', '.join(CASE_IDS)}")
    if case.account not in ACCOUNTS:
        raise ConfigError(f"{where} {case.id}: account {case.account!r} must be one of {', '.join(ACCOUNTS)}")
    if not case.steps:
        raise ConfigError(f"{where} {case.id}: a case needs at least one step")
    for s in (case.severity, *(st.severity for st in case.steps if st.severity)):
        if is_core_severity(s) != case.core:
            kind = "core" if case.core else "non-core"
            raise ConfigError(f"{where} {case.id}: a {kind} case cannot fail at {s.value} (§6: core P0/P1, else P2+)")


def default_cases() -> tuple[Case, ...]:
    cases = tuple(parse_case(c) for c in _raw()["cases"])
    if tuple(c.id for c in cases) != CASE_IDS:
        raise ConfigError("checks/smoke.yaml must define exactly T1..T7 in order")
    return cases


def default_login() -> Login:
    return Login(**{k: str(v) for k, v in _raw()["login"].items()})


def default_mask() -> tuple[str, ...]:
    return tuple(_raw().get("mask") or ())


def _read_yaml(path: str, name: str) -> Any:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"parameter {name}={path!r}: no such file")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"parameter {name}={path!r} is not valid YAML ({exc.__class__.__name__})") from None


def apply_overrides(
    cases: Sequence[Case], login: Login, mask: Sequence[str], path: str
) -> tuple[tuple[Case, ...], Login, tuple[str, ...]]:
    """A deployment's own routes/selectors: `login:` fields, `mask:`, `cases: {Tn: {field: value}}`."""
    if not path:
        return tuple(cases), login, tuple(mask)
    raw = _read_yaml(path, "cases_file")
    if not isinstance(raw, Mapping) or set(raw) - {"login", "mask", "cases"}:
        raise ConfigError(f"parameter cases_file={path!r} may hold only login:, mask: and cases:")
    if raw.get("login"):
        unknown = set(raw["login"]) - set(login.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"cases_file login: unknown field {sorted(unknown)[0]!r}")
        login = replace(login, **{k: str(v) for k, v in raw["login"].items()})
    if raw.get("mask") is not None:
        mask = tuple(str(m) for m in raw["mask"])
    out = []
    given = raw.get("cases") or {}
    unknown_ids = set(given) - set(CASE_IDS)
    if unknown_ids:
        raise ConfigError(f"cases_file cases: unknown case {sorted(unknown_ids)[0]!r} (T1..T7)")
    for case in cases:
        change = given.get(case.id)
        if not change:
            out.append(case)
            continue
        merged = {
            "id": case.id,
            "area": case.area,
            "title": case.title,
            "core": case.core,
            "severity": case.severity.value,
            "evidence": case.evidence,
            "account": case.account,
            "stop_the_bleed": list(case.stop_the_bleed),
            "steps": [
                {"op": s.op, "what": s.what, **s.args, **({"severity": s.severity.value} if s.severity else {})}
                for s in case.steps
            ],
        }
        merged.update(change)
        out.append(parse_case(merged, f"cases_file {path}"))
    return tuple(out), login, tuple(mask)


def parse_case_list(text: str, name: str = "manual_cases") -> tuple[str, ...]:
    items = tuple(dict.fromkeys(t.strip().upper() for t in re.split(r"[,\s]+", text or "") if t.strip()))
    bad = [t for t in items if t not in CASE_IDS]
    if bad:
        raise ConfigError(f"parameter {name}: {bad[0]!r} is not a Quick 7 case (T1..T7)")
    return items


def load_manual(path: str, wanted: Sequence[str]) -> dict[str, ManualResult]:
    """The results file of the cases done by hand. Missing evidence is judged by the page (증적 필수),
    not refused here: the run still records what was done, and refuses PASS."""
    if not wanted:
        if path:
            raise ConfigError("parameter manual_results is given but manual_cases names no case (e.g. T4,T5)")
        return {}
    if not path:
        raise ConfigError(
            f"parameter manual_cases={','.join(wanted)} needs manual_results: a YAML file with each case's "
            "result (pass/fail) and screenshot"
        )
    raw = _read_yaml(path, "manual_results")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"parameter manual_results={path!r} must map case ids (T4, ...) to their results")
    unknown = sorted(set(map(str, raw)) - set(wanted))
    if unknown:
        raise ConfigError(f"manual_results gives {unknown[0]} but manual_cases does not name it")
    base = Path(path).resolve().parent
    out: dict[str, ManualResult] = {}
    for cid in wanted:
        entry = raw.get(cid) or {}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"manual_results {cid}: must be a mapping (result, screenshot, ...)")
        result = str(entry.get("result", "")).strip().lower()
        if result not in ("pass", "fail", ""):
            raise ConfigError(f"manual_results {cid}: result {result!r} must be pass or fail")
        shot = str(entry.get("screenshot") or "").strip()
        tested = entry.get("tested_at")
        out[cid] = ManualResult(
            case=cid,
            passed=None if not result else result == "pass",
            screenshot=(base / shot) if shot else None,
            tested_at=timewindow.parse_instant(str(tested), name=f"manual_results {cid} tested_at") if tested else None,
            device=str(entry.get("device") or ""),
            note=str(entry.get("note") or ""),
            log_link=str(entry.get("log_link") or ""),
            severity=_severity(entry["severity"], f"manual_results {cid}") if entry.get("severity") else None,
        )
    return out


def find_chromium(given: str = "") -> str:
    """Debian's chromium (no browser download): the parameter, $OPSBOOK_CHROMIUM, or the PATH."""
    for candidate in (given, os.environ.get(ENV_CHROMIUM, "")):
        if candidate:
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser") or ""


def _check_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", url):
        raise ConfigError(
            f"parameter base_url={url!r} must be the web app's http(s) address without credentials "
            "(e.g. https://app.example.com)"
        )
    return url


def plan(
    *,
    base_url: str = "",
    test_email: str = "",
    peer_email: str = "",
    admin_email: str = "",
    deploy_time: str = "",
    release: str = "",
    cases_file: str = "",
    manual_cases: str = "",
    manual_results: str = "",
    share_policy: str = "enabled",
    step_timeout_s: float = 5.0,
    chromium_path: str = "",
    screenshots: str | Path = "",
    now: datetime | None = None,
) -> Plan:
    """Check every input of a smoke run; the same function validates parameters before the kernel starts."""
    cases, login, mask = apply_overrides(default_cases(), default_login(), default_mask(), cases_file)
    manual_ids = parse_case_list(manual_cases)
    manual = load_manual(manual_results, manual_ids)
    if share_policy not in SHARE_POLICIES:
        raise ConfigError(f"parameter share_policy={share_policy!r} must be enabled or disabled (T5)")
    if not 0.5 <= float(step_timeout_s) <= 60:
        raise ConfigError("parameter step_timeout_s must be between 0.5 and 60 seconds")
    started = now or timewindow.now_utc()
    deployed = timewindow.parse_instant(deploy_time, name="deploy_time") if deploy_time else None
    if deployed is not None and deployed > started:
        raise ConfigError(f"parameter deploy_time={deploy_time!r} is in the future: the smoke runs after the deploy")
    automated = [c for c in cases if c.id not in manual_ids]
    url = base_url or os.environ.get(ENV_BASE_URL, "")
    accounts: dict[str, Account] = {}
    if automated:
        url = _check_base_url(url) if url else ""
        if not url:
            raise ConfigError(f"parameter base_url (or ${ENV_BASE_URL}) is needed: the web app to smoke-test")
        main = test_email or os.environ.get(ENV_EMAIL["main"], "")
        if not main.strip():
            raise ConfigError(f"parameter test_email (or ${ENV_EMAIL['main']}) is needed: the smoke test account")
        emails = {
            "main": main.strip(),
            "peer": (peer_email or os.environ.get(ENV_EMAIL["peer"], "")).strip(),
            "admin": (admin_email or os.environ.get(ENV_EMAIL["admin"], "")).strip(),
        }
        for role, email in emails.items():
            # a second device or the admin role without an account of its own uses the main account
            own = bool(email)
            accounts[role] = Account(role, email or emails["main"], ENV_PASSWORD[role if own else "main"])
        needed = {c.account for c in automated} | {
            str(s.arg("account")) for c in automated for s in c.steps if s.arg("account")
        }
        for env in sorted({accounts[role].password_env for role in needed - {"none"}}):
            if not os.environ.get(env):
                whose = {v: k for k, v in ENV_PASSWORD.items()}[env]
                raise ConfigError(
                    f"${env} is not set: the password of the smoke test account"
                    f"{'' if whose == 'main' else f' ({whose})'} comes from the environment only "
                    "(never a parameter or a file)"
                )
    folder = Path(screenshots) if screenshots else _screenshot_folder()
    notes = []
    if not os.environ.get(ENV_RUN_FOLDER) and not screenshots:
        notes.append(f"스크린샷은 {folder} 에 저장됩니다 (run outside `opsbook run`: not in an evidence bundle)")
    return Plan(
        base_url=url,
        cases=cases,
        login=login,
        mask=mask,
        accounts=accounts,
        manual=manual,
        manual_cases=manual_ids,
        share_policy=share_policy,
        step_timeout_s=float(step_timeout_s),
        chromium=find_chromium(chromium_path),
        screenshots=folder,
        deploy_time=deployed,
        started_at=started,
        release=release,
        run_tag=started.strftime("%H%M%S"),
        notes=tuple(notes),
    )


def _screenshot_folder() -> Path:
    run = os.environ.get(ENV_RUN_FOLDER)
    if run:
        return Path(run) / "screenshots"
    import tempfile

    return Path(tempfile.mkdtemp(prefix="opsbook-smoke-"))


def validate(values: Mapping[str, Any]) -> None:
    """The runbook validator's page-specific half (opslib.runbooks): everything plan() refuses."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        plan(
            base_url=str(values.get("base_url", "")),
            test_email=str(values.get("test_email", "")),
            peer_email=str(values.get("peer_email", "")),
            admin_email=str(values.get("admin_email", "")),
            deploy_time=str(values.get("deploy_time", "")),
            release=str(values.get("release", "")),
            cases_file=str(values.get("cases_file", "")),
            manual_cases=str(values.get("manual_cases", "")),
            manual_results=str(values.get("manual_results", "")),
            share_policy=str(values.get("share_policy", "enabled")),
            step_timeout_s=float(values.get("step_timeout_s", 5.0)),
            chromium_path=str(values.get("chromium_path", "")),
            screenshots=scratch,
        )
