"""§2 스모크 테스트 실행 (→ §6): is there a smoke run (opsbook run smoke) for the same WI?

The smoke page leaves an evidence bundle like every page: a folder under the evidence directory
whose result.json says `"runbook": "smoke"` and the run's `wi_id`. This step looks for sealed
bundles with the same WI that started after the deploy, and reads the latest one's verdict.
Without a WI or an evidence directory the line is manual (NOT_EVALUATED), never OK.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from opslib import checks, evidence
from opslib.deploy.changes import Deployment
from opslib.results import Finding, Outcome
from opslib.timewindow import kst

CHECK = "deploy.smoke_run"
EVIDENCE_ENV = "OPSBOOK_EVIDENCE_DIR"  # set by the runner for the page's kernel: where runs are written
# §6: the smoke test runs within 10-15 minutes of the deploy
SMOKE_DEADLINE_MIN = 15
_VERDICT_VALUE = {"PASS": 0, "CONDITIONAL_PASS": 1, "FAIL": 2, "ERROR": 2}


@dataclass(frozen=True)
class SmokeView:
    bundles: pd.DataFrame  # smoke runs with the same WI: folder, started (KST), verdict, minutes after deploy
    latest: str | None  # the latest bundle's folder name
    sentence: str
    findings: tuple[Finding, ...]


def find_smoke_runs(folder: Path, wi_id: str) -> list[dict[str, Any]]:
    """Pure on files: the sealed smoke bundles of this WI under folder (one level deep)."""
    found = []
    if not folder.is_dir():
        return found
    for run in sorted(folder.iterdir()):
        if not run.is_dir() or not run.name.startswith("smoke_") or not evidence.is_bundle(run):
            continue
        try:
            data = json.loads((run / evidence.RESULT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("runbook") != "smoke" or (data.get("wi_id") or "") != wi_id:
            continue
        found.append(
            {
                "folder": run.name,
                "started_at": pd.to_datetime(data.get("started_at"), utc=True, errors="coerce"),
                "verdict": data.get("verdict") or "ERROR",
                "intact": not evidence.verify(run),
            }
        )
    return found


def smoke_run(conn: Any, deployment: Deployment, wi_id: str = "", evidence_dir: str = "") -> SmokeView:
    del conn  # files, not the database
    check = checks.get(CHECK)
    folder = Path(evidence_dir or os.environ.get(EVIDENCE_ENV, "") or "")
    if not wi_id or not str(folder) or str(folder) == ".":
        why = (
            "수동 확인: 스모크 테스트(§6 Quick 7) 증적 — wi_id와 evidence_dir이 있어야 번들을 찾습니다 "
            "(opsbook run smoke --wi <WI>)"
        )
        return SmokeView(pd.DataFrame(), None, why, (checks.evaluate(check, None, detail=why),))
    runs = [r for r in find_smoke_runs(folder, wi_id) if r["intact"]]
    at = deployment.deploy_at
    if at is not None:
        runs = [r for r in runs if not pd.isna(r["started_at"]) and r["started_at"] >= pd.Timestamp(at)]
    if not runs:
        why = (
            f"{wi_id}의 스모크 번들이 {folder.name or folder}에 없습니다"
            + (f" (배포 {kst(at)} 이후)" if at else "")
            + f": 배포 후 {SMOKE_DEADLINE_MIN}분 안에 `opsbook run smoke --wi {wi_id}` (no smoke run for this WI yet)"
        )
        return SmokeView(pd.DataFrame(), None, why, (checks.evaluate(check, None, subject=wi_id, detail=why),))
    frame = pd.DataFrame(runs).sort_values("started_at")
    if at is not None:
        frame["minutes_after_deploy"] = [(t - pd.Timestamp(at)).total_seconds() / 60 for t in frame["started_at"]]
    latest = frame.iloc[-1]
    verdict = str(latest["verdict"])
    value = _VERDICT_VALUE.get(verdict, 2)
    sentence = f"스모크 {latest['folder']}: {verdict}"
    late = at is not None and float(frame.iloc[0]["minutes_after_deploy"]) > SMOKE_DEADLINE_MIN
    if late:
        sentence += f" · 첫 스모크가 배포 {float(frame.iloc[0]['minutes_after_deploy']):.0f}분 후 (§6: 10~15분 내)"
    finding = checks.evaluate(check, value, subject=wi_id, detail=sentence)
    if finding.outcome is Outcome.OK and late:
        finding = checks.evaluate(check, 1, subject=wi_id, detail=sentence)
    shown = frame.assign(started_at=frame["started_at"].dt.tz_convert("Asia/Seoul")).drop(columns="intact")
    return SmokeView(shown, str(latest["folder"]), sentence, (finding,))


def latest_smoke_time(view: SmokeView) -> datetime | None:
    if view.bundles.empty:
        return None
    return pd.Timestamp(view.bundles["started_at"].max()).to_pydatetime()
