"""`opsbook check-branch`: branch names of runbook §2 and "no direct push to main" (§2, §5).

CI is detected by `CI=true` (GitHub Actions, GitLab CI and most others set it). The branch is then
read from `GITHUB_HEAD_REF` (a pull request's source branch), else `GITHUB_REF_NAME`, else
`GITHUB_REF` (`refs/heads/<name>`), else `CI_COMMIT_REF_NAME` (GitLab); outside CI from git
(`git symbolic-ref --short HEAD`). A push to `main` in CI is refused unless its head commit is a
pull request's merge (GitHub's "Merge pull request #N from ..." or a squash title ending "(#N)",
read from the event payload at `GITHUB_EVENT_PATH`): a heuristic in front of the real guard, the
repository's branch protection.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WI_ID = re.compile(r"(?<![A-Za-z0-9])WI-\d{1,6}(?!\d)")
SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
WI_BRANCH = re.compile(rf"^wi/(?P<wi>WI-\d{{1,6}})-(?P<slug>{SLUG})$")
HOTFIX_BRANCH = re.compile(rf"^hotfix/(?P<date>\d{{4}}-\d{{2}}-\d{{2}})-(?P<slug>{SLUG})$")
PROTECTED = ("main",)
_PR_MERGE = re.compile(r"^Merge pull request #\d+ from |\(#\d+\)\s*$")


@dataclass(frozen=True)
class CIContext:
    ci: bool
    branch: str | None
    source: str  # which variable (or git) named the branch
    event: str | None
    head_commit_message: str | None = None

    @property
    def pushing(self) -> bool:
        return self.ci and self.event not in ("pull_request", "pull_request_target", "merge_group")


@dataclass(frozen=True)
class BranchVerdict:
    branch: str
    kind: str  # wi | hotfix | protected | allowed | invalid
    problems: tuple[str, ...]
    wi: str | None = None
    date: str | None = None
    ci: bool = False
    source: str = "argument"
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def ci_context(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> CIContext:
    env = os.environ if env is None else env
    ci = env.get("CI", "").strip().lower() in ("true", "1", "yes")
    event = env.get("GITHUB_EVENT_NAME") or None
    message = None
    if env.get("GITHUB_EVENT_PATH"):
        try:
            payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
            message = (payload.get("head_commit") or {}).get("message")
        except (OSError, ValueError):
            message = None
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_REF", "CI_COMMIT_REF_NAME"):
        value = env.get(var, "").strip() if ci else ""
        if value:
            if var == "GITHUB_REF":
                if not value.startswith("refs/heads/"):
                    continue  # a tag or a pull request's merge ref names no branch
                value = value.removeprefix("refs/heads/")
            return CIContext(ci, value, var, event, message)
    return CIContext(ci, git_branch(cwd), "git", event, message)


def git_branch(cwd: Path | None = None) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "symbolic-ref", "--short", "-q", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def check_branch(
    name: str,
    *,
    context: CIContext | None = None,
    allow: Sequence[str] = (),
    today: dt.date | None = None,
) -> BranchVerdict:
    ctx = context or CIContext(False, name, "argument", None)
    common = {"ci": ctx.ci, "source": ctx.source}
    if name in PROTECTED:
        if ctx.pushing and ctx.head_commit_message and _PR_MERGE.search(ctx.head_commit_message.splitlines()[0]):
            return BranchVerdict(name, "protected", (), notes=("a pull request's merge commit",), **common)
        why = (
            f"a direct push to {name} is refused (runbook §2/§5: PRs only)"
            if ctx.pushing
            else f"{name} takes pull-request merges only: work on wi/<WI-ID>-<slug> or hotfix/<YYYY-MM-DD>-<slug>"
        )
        return BranchVerdict(name, "protected", (why,), **common)
    m = WI_BRANCH.match(name)
    if m:
        return BranchVerdict(name, "wi", (), wi=m.group("wi"), **common)
    m = HOTFIX_BRANCH.match(name)
    if m:
        problems = []
        try:
            day = dt.date.fromisoformat(m.group("date"))
        except ValueError:
            problems.append(f"hotfix date {m.group('date')} is not a calendar date")
        else:
            limit = (today or dt.date.today()) + dt.timedelta(days=1)  # a day ahead: KST is ahead of UTC
            if day > limit:
                problems.append(f"hotfix date {day} is in the future")
        return BranchVerdict(name, "hotfix", tuple(problems), date=m.group("date"), **common)
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in allow):
        return BranchVerdict(name, "allowed", (), notes=("matched --allow",), **common)
    return BranchVerdict(name, "invalid", (_naming_hint(name),), **common)


def _naming_hint(name: str) -> str:
    expected = "expected wi/<WI-ID>-<slug> (wi/WI-042-payment-retry) or hotfix/<YYYY-MM-DD>-<slug>"
    if name.startswith("wi/"):
        if not re.match(r"^wi/WI-\d", name):
            return f"{name!r}: the WI id comes first, as WI-<digits> ({expected})"
        return f"{name!r}: the slug is lowercase letters, digits and single dashes ({expected})"
    if name.startswith("hotfix/"):
        return f"{name!r}: a hotfix branch starts with its date YYYY-MM-DD ({expected})"
    return f"{name!r} is not a work branch: {expected}"
