"""The runbook pages opsbook can run, and how their parameters are checked before a run.

Parameter names, types and defaults come from each notebook's tagged `parameters`
cell (papermill's own inspection), so the notebook stays the single source of truth;
values are then checked by the runbook's validator so that a bad value is a usage
error before any kernel starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from opslib import timewindow
from opslib.errors import ConfigError


def notebooks_dir() -> Path:
    override = os.environ.get("OPSBOOK_NOTEBOOKS")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "notebooks"


def parameters_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "parameters"


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: str  # "int" | "float" | "str" | "bool"
    default: Any
    help: str


@dataclass(frozen=True)
class Runbook:
    id: str
    section: str
    title: str
    validate: Callable[[Mapping[str, Any]], None]
    # Parameters holding people's names (the incident's roles): they reach the page's own output
    # (the post-mortem) only; result.json and the executed notebook keep them masked.
    personal: frozenset[str] = frozenset()
    # Parameters naming a file or folder: made absolute against the caller's working directory
    # (the kernel runs in notebooks/, where a relative path would point elsewhere).
    paths: frozenset[str] = frozenset()
    # False for a triage page (the alert board): the runbook gives it no exit condition, so its last
    # run neither allows nor refuses an incident's close.
    exit_condition: bool = True

    @property
    def notebook(self) -> Path:
        return notebooks_dir() / f"{self.id}.ipynb"

    def parameters(self) -> dict[str, ParameterSpec]:
        return _inspect(str(self.notebook))


@cache
def _inspect(path: str) -> dict[str, ParameterSpec]:
    import ast

    from opslib import fastimport

    fastimport.skip_slow_format_checkers()
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ConfigError(f"{Path(path).name} has no cell tagged `parameters`")
    specs: dict[str, ParameterSpec] = {}
    # papermill.inspect_notebook would do this too, but importing papermill costs ~0.4 s
    # and `--help` must answer at once; the parameters cell is plain `name = literal  # help`.
    for line in cell.source.splitlines():
        code, _, comment = line.partition("#")
        if "=" not in code:
            continue
        name, _, literal = code.partition("=")
        try:
            value = ast.literal_eval(literal.strip())
        except (ValueError, SyntaxError):
            continue
        specs[name.strip()] = ParameterSpec(name.strip(), type(value).__name__, value, comment.strip())
    return specs


def validate_common(values: Mapping[str, Any]) -> None:
    """The parameters every page shares: the window and the environment."""
    timewindow.window_from_parameters(
        str(values.get("since", "")), str(values.get("until", "")), int(values.get("window_minutes", 60))
    )
    env = str(values.get("environment", "demo"))
    if env not in ("demo", "staging", "production"):
        raise ConfigError(f"parameter environment={env!r} must be one of demo, staging, production")


def _validate_payments(values: Mapping[str, Any]) -> None:
    validate_common(values)
    if values.get("business_date"):
        timewindow.parse_day(str(values["business_date"]), name="business_date")
    export = str(values.get("pg_export_path", "") or "")
    if export and not Path(export).is_file():
        raise ConfigError(f"parameter pg_export_path={export!r}: no such file")
    if export:
        # read it now: an unreadable export is a bad parameter, refused before the page starts
        # (as a failing step 4 it stopped the page and refunds, exit and impact went unmeasured)
        from opslib.payments.pg_export import load_pg_export

        load_pg_export(export)
    if int(values.get("exit_hold_minutes", 30)) <= 0:
        raise ConfigError("parameter exit_hold_minutes must be a positive number of minutes")


def _validate_cron(values: Mapping[str, Any]) -> None:
    validate_common(values)
    from opslib.dispatcher import EDGE_SECRET_ENV, normalise_digest

    job = str(values.get("action_job", "scheduled-dispatcher") or "")
    if not job.strip():
        raise ConfigError("parameter action_job must name a pg_cron job (e.g. scheduled-dispatcher)")
    edge = os.environ.get(EDGE_SECRET_ENV)
    if edge and normalise_digest(edge) is None:
        # the digest comes from the environment, never a parameter; a malformed one is still bad input
        raise ConfigError(f"${EDGE_SECRET_ENV} is set but is not a 64-character hex SHA-256 digest")


def _validate_messaging(values: Mapping[str, Any]) -> None:
    validate_common(values)
    from opslib.actions.release_stuck import MIN_LOCK_AGE

    if int(values.get("stuck_lock_minutes", 10)) < MIN_LOCK_AGE:
        raise ConfigError(
            f"parameter stuck_lock_minutes must be at least {MIN_LOCK_AGE} minutes "
            "(a younger lock may belong to a dispatcher run still working)"
        )
    if int(values.get("exit_hold_minutes", 5)) <= 0:
        raise ConfigError("parameter exit_hold_minutes must be a positive number of minutes")
    if values.get("realtime_restart_at"):
        timewindow.parse_instant(str(values["realtime_restart_at"]), name="realtime_restart_at")


def _validate_auth(values: Mapping[str, Any]) -> None:
    validate_common(values)
    expiry = int(values.get("jwt_expiry_seconds", 3600))
    if not 30 <= expiry <= 604_800:
        raise ConfigError(f"parameter jwt_expiry_seconds={expiry} must be between 30 and 604800 seconds (one week)")
    if float(values.get("slow_ms", 3000)) <= 0:
        raise ConfigError("parameter slow_ms must be a positive number of milliseconds")
    if int(values.get("exit_hold_minutes", 10)) <= 0:
        raise ConfigError("parameter exit_hold_minutes must be a positive number of minutes")
    timeout = float(values.get("probe_timeout_s", 5.0))
    if not 0 < timeout <= 60:
        raise ConfigError(f"parameter probe_timeout_s={timeout:g} must be more than 0 and at most 60 seconds")


def _validate_storage(values: Mapping[str, Any]) -> None:
    validate_common(values)
    if int(values.get("exit_hold_minutes", 5)) <= 0:
        raise ConfigError("parameter exit_hold_minutes must be a positive number of minutes")
    if not float(values.get("bucket_quota_gb", 50.0)) > 0:
        raise ConfigError("parameter bucket_quota_gb must be a positive number of gigabytes")
    timeout = float(values.get("probe_timeout_s", 5.0))
    if not 0 < timeout <= 30:
        raise ConfigError("parameter probe_timeout_s must be between 0 and 30 seconds (the probe is time-bounded)")
    for name in ("private_bucket", "probe_bucket"):
        if not str(values.get(name, "")).strip():
            raise ConfigError(f"parameter {name} must name a storage bucket")
    path = str(values.get("probe_path", "opsbook-probe"))
    if not path.strip("/") or ".." in path or "?" in path or "#" in path:
        raise ConfigError(f"parameter probe_path={path!r} must be a plain test folder such as opsbook-probe")


def _validate_admin(values: Mapping[str, Any]) -> None:
    validate_common(values)
    hold = values.get("exit_hold_minutes", 0)
    if isinstance(hold, bool) or int(hold) < 0:
        raise ConfigError("parameter exit_hold_minutes must be 0 (the page's default) or a positive number of minutes")
    target = str(values.get("restore_user_id", "") or "").strip()
    if target:
        import uuid

        try:
            uuid.UUID(target)
        except ValueError:
            raise ConfigError("parameter restore_user_id must be exactly one user id (a uuid), or empty") from None


def _validate_rls_audit(values: Mapping[str, Any]) -> None:
    validate_common(values)
    import re

    for name in str(values.get("exposed_schemas", "") or "").split(","):
        if name.strip() and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", name.strip().strip('"')):
            raise ConfigError(
                f"parameter exposed_schemas: {name.strip()!r} is not a schema name "
                "(give names separated by commas, e.g. public,storage)"
            )


def _validate_logs(values: Mapping[str, Any]) -> None:
    validate_common(values)
    sample = values.get("sample_per_function", 0)
    if isinstance(sample, bool) or not 0 <= int(sample) <= 1_000_000:
        raise ConfigError(
            f"parameter sample_per_function={sample} must be 0 (checks/logs.yaml) or a number of lines up to 1000000"
        )


def _validate_deploy(values: Mapping[str, Any]) -> None:
    validate_common(values)
    from opslib.deploy.changes import parse_functions

    if values.get("deploy_at"):
        timewindow.parse_instant(str(values["deploy_at"]), name="deploy_at")
    observe = values.get("observe_minutes", 60)
    if isinstance(observe, bool) or not 30 <= int(observe) <= 60:
        raise ConfigError(
            f"parameter observe_minutes={observe} must be between 30 and 60 minutes (runbook §2: 30~60분)"
        )
    names = parse_functions(str(values.get("functions", "") or ""))
    bad = [n for n in names if not all(ch.isalnum() or ch in "-_" for ch in n)]
    if bad:
        raise ConfigError(f"parameter functions: {bad[0]!r} is not an Edge Function name (comma-separated names)")
    export = str(values.get("sentry_export", "") or "")
    if export and not Path(export).is_file():
        raise ConfigError(f"parameter sentry_export={export!r}: no such file")
    wants_sentry = export or values.get("sentry_org") or values.get("sentry_project")
    if wants_sentry and not str(values.get("release", "")).strip():
        raise ConfigError("parameter release must name the release (app version or git SHA) to read Sentry by it")
    if bool(values.get("sentry_org")) != bool(values.get("sentry_project")):
        raise ConfigError("parameters sentry_org and sentry_project go together (the issues API needs both)")
    folder = str(values.get("evidence_dir", "") or "")
    if folder and not Path(folder).is_dir():
        raise ConfigError(f"parameter evidence_dir={folder!r}: no such folder")


def _validate_smoke(values: Mapping[str, Any]) -> None:
    validate_common(values)
    from opslib.smoke.cases import validate

    # the cases file, the manual results, the base URL, the accounts and their passwords' presence
    validate(values)


def _validate_alerts(values: Mapping[str, Any]) -> None:
    validate_common(values)
    from opslib.alerts.decision import symptom_named
    from opslib.alerts.sentry import TOKEN_ENV, load_export

    symptom_named(str(values.get("symptom", "") or ""))
    export = str(values.get("sentry_sessions_file", "") or "")
    if export:
        if not Path(export).is_file():
            raise ConfigError(f"parameter sentry_sessions_file={export!r}: no such file")
        load_export(export)  # an unreadable export is a bad parameter, refused before the page starts
    if values.get("sentry_api"):
        if export:
            raise ConfigError("give sentry_sessions_file or sentry_api, not both")
        if not str(values.get("sentry_org", "") or "").strip():
            raise ConfigError("parameter sentry_api needs sentry_org (the Sentry organization slug)")
        if not os.environ.get(TOKEN_ENV):
            raise ConfigError(f"parameter sentry_api needs ${TOKEN_ENV} in the environment (never a parameter)")


def _validate_incident(values: Mapping[str, Any]) -> None:
    validate_common(values)
    import re

    wi = str(values.get("wi_id", "") or "")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", wi):
        raise ConfigError(
            "parameter wi_id must name the work item (letters, digits, - and _, e.g. WI-042): "
            "the incident page collects the runs made with --wi <that id>"
        )
    folder = Path(str(values.get("evidence_dir", "") or ""))
    if not str(values.get("evidence_dir", "") or "").strip() or not folder.is_dir():
        raise ConfigError(f"parameter evidence_dir={str(folder)!r} must be the folder the WI's runs wrote to (--out)")
    sev = str(values.get("severity", "") or "")
    if sev not in ("", "P0", "P1", "P2", "P3"):
        raise ConfigError(f"parameter severity={sev!r} must be P0, P1, P2, P3 or empty (computed from the evidence)")
    declared = closed = None
    if values.get("declared_at"):
        declared = timewindow.parse_instant(str(values["declared_at"]), name="declared_at")
    if values.get("closed_at"):
        closed = timewindow.parse_instant(str(values["closed_at"]), name="closed_at")
    if declared and closed and closed < declared:
        raise ConfigError("parameter closed_at is before declared_at")
    for t in str(values.get("update_times", "") or "").split(","):
        if t.strip():
            timewindow.parse_instant(t, name="update_times")


RUNBOOKS: dict[str, Runbook] = {
    "payments": Runbook("payments", "§3-A", "결제 장애 (Payments)", _validate_payments),
    "cron": Runbook("cron", "§3-F", "크론/스케줄 잡 장애 (Cron)", _validate_cron),
    "messaging": Runbook("messaging", "§3-C", "메시지/리얼타임 장애 (Messaging)", _validate_messaging),
    "auth": Runbook("auth", "§3-B", "인증/로그인 장애 (Auth/Login)", _validate_auth),
    "storage": Runbook("storage", "§3-D", "스토리지 장애 (Storage)", _validate_storage),
    "admin": Runbook("admin", "§3-E", "관리자/운영툴 장애 (Admin/Ops)", _validate_admin),
    "rls-audit": Runbook("rls-audit", "§7", "RLS·권한 감사 (Live RLS and privilege audit)", _validate_rls_audit),
    "logs": Runbook("logs", "§4-A~C", "로그 표준 감사 (Log-field standard audit)", _validate_logs),
    "deploy": Runbook("deploy", "§2", "배포 후 관찰 (Post-Deploy, 30~60분)", _validate_deploy),
    "smoke": Runbook("smoke", "§6", "스모크 테스트 Quick 7 (Smoke Test)", _validate_smoke),
    "alerts": Runbook(
        "alerts",
        "§4-E · §0",
        "알림 보드 (Alert board: what broke, how bad, which page)",
        _validate_alerts,
        exit_condition=False,
    ),
    "incident": Runbook(
        "incident",
        "§1",
        "인시던트 공통 절차 (Incident: seven steps and post-mortem)",
        _validate_incident,
        personal=frozenset({"ic_name", "ops_name", "comms_name", "scribe_name"}),
        paths=frozenset({"evidence_dir", "postmortem_path"}),
    ),
}


def get(runbook_id: str) -> Runbook:
    try:
        rb = RUNBOOKS[runbook_id]
    except KeyError:
        known = ", ".join(sorted(RUNBOOKS))
        raise ConfigError(f"unknown runbook {runbook_id!r}: choose one of {known} (see `opsbook list`)") from None
    if not rb.notebook.is_file():
        raise ConfigError(f"the notebook for {runbook_id!r} is missing at {rb.notebook}")
    return rb


def coerce(spec: ParameterSpec, raw: Any) -> Any:
    """Turn a CLI/YAML value into the type the notebook declares, or say clearly why not."""
    if spec.type == "str":
        return "" if raw is None else str(raw)
    text = raw.strip() if isinstance(raw, str) else raw
    try:
        if spec.type == "int":
            if isinstance(text, bool) or (isinstance(text, float) and not text.is_integer()):
                raise ValueError  # int(1.5) is 1: a YAML 1.5 would run a different page than asked
            return int(text)
        if spec.type == "float":
            return float(text)
        if spec.type == "bool":
            if isinstance(text, bool):
                return text
            lowered = str(text).lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"parameter {spec.name}={raw!r} is not a valid {spec.type} ({spec.help})") from None
    return raw


def resolve_parameters(rb: Runbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults from the notebook, overridden by `given`; unknown names and bad values are errors."""
    specs = rb.parameters()
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ConfigError(
            f"unknown parameter {unknown[0]!r} for runbook {rb.id}: known parameters are {', '.join(specs)}"
        )
    values = {name: spec.default for name, spec in specs.items()}
    for name, raw in given.items():
        values[name] = coerce(specs[name], raw)
    for name in rb.paths & set(values):
        if values[name]:
            values[name] = str(Path(str(values[name])).expanduser().resolve())
    rb.validate(values)
    return values


def load_parameter_file(path: str | Path) -> dict[str, Any]:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"parameter file {p} does not exist")

    class UniqueKeys(yaml.SafeLoader):
        """A key given twice is a mistake to point at, not a silent 'last one wins'."""

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
            twice = sorted({str(k) for k in keys if keys.count(k) > 1})
            if twice:
                raise ConfigError(f"parameter file {p} gives {twice[0]!r} more than once")
            return super().construct_mapping(node, deep=deep)

    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:  # a traceback with exit 1 (the code for "P0/P1 found") before
        raise ConfigError(f"parameter file {p} is not UTF-8 text (save it as UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"parameter file {p} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        data = yaml.load(text, Loader=UniqueKeys) or {}  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(f"parameter file {p} is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"parameter file {p} must be a mapping of name: value")
    from opslib.masking import is_secret_name

    secret = [k for k in data if is_secret_name(str(k))]
    if secret:
        raise ConfigError(
            f"parameter file {p} holds a secret-looking key {secret[0]!r}: "
            "secrets come from the environment, never a file"
        )
    # YAML turns 2026-11-25 into a date; the notebook expects text.
    return {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
