"""§3-F 최소 완화 / 복구: run a pg_cron job once now, and pause / resume a job.

Both act on one job named by `--target` and go through opsbook's SECURITY DEFINER functions
(opslib/sql/roles.sql, `-- cron actions`), because pg_cron lets only a job's owner alter it and
the job's command needs the owner's rights. Run-once executes exactly the job's stored command
(for an Edge job that is `invoke_edge_function(...)`, which returns the pg_net request id, kept in
the audit row so the page can link the response); it is refused while a run of the job is in
flight and within a minute of the previous run-once (a second click is not a second run).
Pause/resume is `cron.alter_job(active := ...)` and changes nothing when the job is already so.
"""

from __future__ import annotations

import json
from datetime import timedelta
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
from opslib.dispatcher import JobKind, command_target
from opslib.errors import ActionRefused

RUN_ONCE = "cron-run-job-once"
PAUSE = "cron-pause-job"
REPEAT_GUARD = timedelta(seconds=60)


def _job(conn: Connection, name: str) -> dict[str, Any]:
    if not name:
        raise ActionRefused("name the job with --target <jobname> (see the cron page's registry); nothing was written")
    frame = queries.run(conn, "actions.cron_job_read", {"jobname": name}).frame
    if frame.empty:
        raise ActionRefused(f"cron.job has no job named {name!r}; nothing was written")
    row = frame.iloc[0].to_dict()
    return {k: (int(v) if k == "jobid" else v) for k, v in row.items()}


def _missing(name: str, action: str) -> ActionOutcome:
    """The dry-run of an action on a job that is not there: what would bring it back instead."""
    from opslib.dispatcher import job_spec

    spec = job_spec(name)
    hint = (
        f"re-create it as the contract does (20_app.sql §18), as postgres: SELECT cron.schedule('{spec.name}', "
        f"'{spec.schedule}', $$ ... $$) with the contract's command"
        if spec
        else "check the name in the cron page's registry"
    )
    return ActionOutcome(
        action, f"cron job {name}", False, False, None, None, (), f"cron.job has no job named {name!r}: {hint}"
    )


def _what(job: dict[str, Any]) -> str:
    target = command_target(str(job["command"]))
    if target.kind is JobKind.EDGE:
        return f"Edge Function {target.function} via pg_net (one new request; the response lands in net._http_response)"
    return "its SQL, in one transaction"


def plan_run_once(conn: Connection, request: ActionRequest) -> ActionOutcome:
    if request.target and queries.run(conn, "actions.cron_job_read", {"jobname": request.target}).frame.empty:
        return _missing(request.target, RUN_ONCE)
    job = _job(conn, request.target)
    recent = queries.run(conn, "actions.cron_job_recent", {"jobid": job["jobid"]}).frame.iloc[0]
    before = {
        "job": job["jobname"],
        "command": str(job["command"]).strip(),
        "active": bool(job["active"]),
        "last_run_at": recent["last_run_at"],
        "runs_in_flight": int(recent["in_flight"]),
    }
    after = {
        **before,
        "runs_in_flight": before["runs_in_flight"],
        "manual_run": "once, now, as " + str(job["username"]),
    }
    refused = " (refused now: a run is in flight)" if before["runs_in_flight"] else ""
    message = (
        f"would run {job['jobname']!r} once now: {_what(job)}, and write 1 admin_audit_log row{refused}; "
        f"to do it: opsbook action {RUN_ONCE} --target {job['jobname']} --confirm {RUN_ONCE}"
    )
    audit = ({"action": "cron.run_once", "target_type": "cron_job", "target_id": job["jobname"]},)
    return ActionOutcome(RUN_ONCE, f"cron job {job['jobname']}", False, True, before, after, audit, message)


@register(RUN_ONCE, plan_run_once)
def run_once(request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None) -> ActionOutcome:
    """Run the job's command once now (§3-C/§3-F 복구: 'scheduled-dispatcher 수동 트리거')."""
    if not require_confirmation(RUN_ONCE, confirm):
        with readable(database_url) as conn:
            return plan_run_once(conn, request)
    with writable(database_url) as conn:
        set_claims(conn, request)
        job = _job(conn, request.target)
        recent = queries.run(conn, "actions.cron_job_recent", {"jobid": job["jobid"]}).frame.iloc[0]
        if int(recent["in_flight"]):
            raise ActionRefused(
                f"{job['jobname']!r} has a run in flight: a manual run now would overlap it; nothing was written"
            )
        repeat = queries.run(
            conn,
            "actions.recent_audit",
            {"action": "cron.run_once", "target_id": job["jobname"], "within": REPEAT_GUARD},
        ).frame
        if len(repeat):
            raise ActionRefused(
                f"{job['jobname']!r} was already run once at {repeat.iloc[0]['created_at']} (audit row "
                f"{repeat.iloc[0]['id']}): wait a minute, or check the page first; nothing was written"
            )
        ran = queries.run(conn, "actions.cron_run_once", {"jobname": job["jobname"]}).frame.iloc[0]
        before = {"job": job["jobname"], "command": str(job["command"]).strip(), "last_run_at": recent["last_run_at"]}
        request_id = (
            None if ran["request_id"] is None or ran["request_id"] != ran["request_id"] else int(ran["request_id"])
        )
        after = {**before, "request_id": request_id, "rows_affected": int(ran["rows_affected"] or 0)}
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": "cron.run_once",
                "target_type": "cron_job",
                "target_id": job["jobname"],
                "before": json.dumps(before, default=str, ensure_ascii=False),
                "after": json.dumps(after, default=str, ensure_ascii=False),
                "reason": request.audit_reason(f"run {job['jobname']} once"),
            },
        )
        written = audit_rows(conn, "cron_job", job["jobname"])
        if len(written) != 1:
            raise ActionRefused(
                f"expected exactly one audit row for {job['jobname']}, found {len(written)}; rolled back"
            )
    what = f"pg_net request {request_id}" if request_id is not None else f"{after['rows_affected']} row(s)"
    return ActionOutcome(
        RUN_ONCE,
        f"cron job {job['jobname']}",
        True,
        True,
        before,
        after,
        written,
        f"{job['jobname']} ran once ({what}); audit row written. Watch its outcome on the cron page.",
    )


def plan_pause(conn: Connection, request: ActionRequest) -> ActionOutcome:
    if request.target and queries.run(conn, "actions.cron_job_read", {"jobname": request.target}).frame.empty:
        return _missing(request.target, PAUSE)
    job = _job(conn, request.target)
    wanted = request.undo  # pausing means active = false; --undo resumes
    before = {"job": job["jobname"], "active": bool(job["active"]), "schedule": job["schedule"]}
    changed = before["active"] != wanted
    after = {**before, "active": wanted}
    verb = "resume" if wanted else "pause"
    message = (
        f"would {verb} {job['jobname']!r}: cron.alter_job({job['jobid']}, active := {str(wanted).lower()}) "
        f"and write 1 admin_audit_log row; to do it: opsbook action {PAUSE} --target {job['jobname']} "
        f"--confirm {PAUSE}{' --undo' if request.undo else ''}"
        if changed
        else f"{job['jobname']!r} is already {'active' if wanted else 'paused'}: nothing to do"
    )
    audit = ({"action": f"cron.{verb}", "target_type": "cron_job", "target_id": job["jobname"]},) if changed else ()
    return ActionOutcome(PAUSE, f"cron job {job['jobname']}", False, changed, before, after, audit, message)


@register(PAUSE, plan_pause)
def pause(request: ActionRequest, *, confirm: str | None = None, database_url: str | None = None) -> ActionOutcome:
    """Pause a job (active = false) or, with --undo, resume it."""
    wanted = request.undo
    verb = "resume" if wanted else "pause"
    if not require_confirmation(PAUSE, confirm):
        with readable(database_url) as conn:
            return plan_pause(conn, request)
    with writable(database_url) as conn:
        set_claims(conn, request)
        job = _job(conn, request.target)
        result = queries.run(conn, "actions.cron_set_active", {"jobname": job["jobname"], "active": wanted}).frame
        row = result.iloc[0]
        before = {"job": job["jobname"], "active": bool(row["was_active"]), "schedule": job["schedule"]}
        after = {**before, "active": bool(row["active"])}
        if before["active"] == wanted:
            return ActionOutcome(
                PAUSE,
                f"cron job {job['jobname']}",
                True,
                False,
                before,
                before,
                (),
                f"{job['jobname']} was already {'active' if wanted else 'paused'}: nothing written",
            )
        queries.run(
            conn,
            "actions.audit_insert",
            {
                "admin_id": request.operator_uuid,
                "action": f"cron.{verb}",
                "target_type": "cron_job",
                "target_id": job["jobname"],
                "before": json.dumps(before, default=str, ensure_ascii=False),
                "after": json.dumps(after, default=str, ensure_ascii=False),
                "reason": request.audit_reason(f"{verb} {job['jobname']}"),
            },
        )
        written = audit_rows(conn, "cron_job", job["jobname"])
        if len(written) != 1 or after["active"] != wanted:
            raise ActionRefused(f"{verb} of {job['jobname']} did not take effect as expected; rolled back")
    return ActionOutcome(
        PAUSE,
        f"cron job {job['jobname']}",
        True,
        True,
        before,
        after,
        written,
        f"{job['jobname']} is now {'active' if wanted else 'paused'}; audit row written",
    )
