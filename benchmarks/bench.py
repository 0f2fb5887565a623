"""Speed and memory figures for opsbook, printed (targets live here, not in timed unit tests).

    python benchmarks/bench.py                 # scale 1, the demo scale (14 and 42 days), the 10 M-ledger scale
    python benchmarks/bench.py --skip-big      # without the 10 M-ledger database
    python benchmarks/bench.py --skip-long     # without the 42-day demo-scale database

Measures, on this machine: seed time and row counts; `opsbook run payments` as a whole
process (wall time, median of --runs) and the notebook kernel's peak RSS; the
reconciliation of one KST business day (time, peak RSS of its process); and the EXPLAIN
plan class of every payments query (index vs sequential scan). Each at the demo scale over
14 days, over 42 days (the same hourly rate: a 3x table behind an equally busy window, so
the page's cost can be seen to follow the window, not the table), and at the 10 M-ledger
scale (2.8x the rate: a busier window too).
It uses its own embedded cluster in a temporary OPSBOOK_HOME and never touches the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="opsbook-bench-"))
os.environ["OPSBOOK_HOME"] = str(HOME)
os.environ.pop("OPSBOOK_DATABASE_URL", None)

from opslib import db, embedded, explain, timewindow  # noqa: E402
from opslib.seed import profile, seed  # noqa: E402

OPSBOOK = [sys.executable, "-m", "opslib.cli"]


def seed_db(name: str, scale: int, scenario: str, days: int | None = None) -> tuple[str, object]:
    embedded.create_contract_database(name, replace=True)
    t0 = time.perf_counter()
    report = seed(embedded.libpq_url(name), scale=scale, scenario=scenario, days=days)
    wall = time.perf_counter() - t0
    history = f"{days} days" if days else "default history"
    print(f"\n## seed {name}: scale {scale}, {history}, scenario {scenario}: {wall:.1f} s")
    for table, n in sorted(report.row_counts.items(), key=lambda kv: -kv[1])[:12]:
        print(f"   {table:<34} {n:>12,}")
    print(f"   {'total rows':<34} {sum(report.row_counts.values()):>12,}")
    settle(name)
    return name, report


def cpu_reference() -> float:
    """Seconds for a fixed pure-Python loop: this shared machine's speed drifts (0.86-1.41 s
    seen on the same day), so every run prints it next to its figures."""
    t0 = time.perf_counter()
    total = 0
    for i in range(10**7):
        total += i
    seconds = time.perf_counter() - t0
    print(f"   CPU reference (10^7-step Python loop): {seconds:.2f} s")
    return seconds


def settle(name: str) -> None:
    """VACUUM the freshly loaded database before measuring it.

    Millions of new rows trigger insert-driven autovacuums a minute or so after the load;
    measured pages then compete with them (seen: +35 % page time). A production database is
    vacuumed; so is the one measured here. The time is printed apart from the seed time.
    """
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(embedded.libpq_url(name), autocommit=True) as conn:
        conn.execute("VACUUM")
        # and write the load's dirty pages out now, not while a page is being measured
        conn.execute("CHECKPOINT")
    print(f"   VACUUM and CHECKPOINT before measuring: {time.perf_counter() - t0:.1f} s")


FLOOR_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": "x = 1",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "metadata": {},
            "source": "import pandas, sqlalchemy\nx + 1",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def floor(runs: int) -> float:
    """Median wall time of papermill on a trivial notebook (kernel start, imports, write): what
    every page pays before its first query. Page figures are quoted as page minus this floor."""
    src = HOME / "floor.ipynb"
    src.write_text(json.dumps(FLOOR_NOTEBOOK))
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "papermill", str(src), str(HOME / "floor-out.ipynb"), "--no-progress-bar"],
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
    median = statistics.median(walls)
    print(f"   floor (papermill, trivial notebook, {runs} runs): wall median {median:.2f} s")
    return median


def run_page(
    name: str, as_of: str, runs: int, out: Path, tree: str | None = None, runbook: str = "payments"
) -> dict[str, float]:
    cpu_reference()
    reader = embedded.url(name, user=embedded.READER_ROLE)
    walls, peaks, inner = [], [], []
    env = {**os.environ, "PYTHONPATH": tree} if tree else None
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*OPSBOOK, "run", runbook, "--database-url", reader, "-p", "until", as_of, "--out", str(out), "--quiet"],
            capture_output=True,
            text=True,
            env=env,
        )
        walls.append(time.perf_counter() - t0)
        folder = Path(next(line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("evidence:")))
        result = json.loads((folder / "result.json").read_text())
        peaks.append(result.get("kernel_peak_rss_mib") or 0.0)
        inner.append(result["seconds"])
        verdict = result["verdict"]
    figures = {
        "wall_median_s": statistics.median(walls),
        "wall_min_s": min(walls),
        "in_runner_median_s": statistics.median(inner),
        "kernel_peak_rss_mib": max(peaks),
    }
    print(
        f"   opsbook run {runbook} ({runs} runs, verdict {verdict}): wall median {figures['wall_median_s']:.2f} s, "
        f"min {figures['wall_min_s']:.2f} s; kernel peak RSS {figures['kernel_peak_rss_mib']:.0f} MiB"
    )
    return figures


RECONCILE = """
import json, sys, time
from datetime import datetime
from opslib import db, payments, timewindow
from opslib.page import own_peak_rss_mib
url, as_of = sys.argv[1], datetime.fromisoformat(sys.argv[2])
day = timewindow.kst_day(timewindow.last_business_day(as_of))
t0 = time.perf_counter()
with db.read_only(url, "bench") as conn:
    r = payments.reconcile(conn, day)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork/exec, so a child of this
# benchmark (which seeded millions of rows in-process) would report the parent's peak.
print(json.dumps({"seconds": time.perf_counter() - t0, "items": len(r.items), "peak_rss_mib": own_peak_rss_mib()}))
"""


def reconcile_day(name: str, as_of: str) -> dict[str, float]:
    reader = embedded.url(name, user=embedded.READER_ROLE)
    proc = subprocess.run([sys.executable, "-c", RECONCILE, reader, as_of], capture_output=True, text=True, check=True)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"   reconcile one KST business day: {figures['seconds']:.2f} s, {figures['items']} mismatches, "
        f"process peak RSS {figures['peak_rss_mib']:.0f} MiB"
    )
    return figures


EXPLAIN_OVERRIDES = {
    "admin": {"last": 20, "patterns": ["SUPABASE_SERVICE_ROLE_KEY"], "schemas": ["public"], "tables": ["banners"]},
}


def plans(name: str, as_of: str, domain: str = "payments") -> dict[str, str]:
    from datetime import datetime, timedelta

    until = datetime.fromisoformat(as_of)
    overrides = (
        {**EXPLAIN_OVERRIDES.get(domain, {}), "lookback": until - timedelta(days=7)} if domain == "admin" else {}
    )
    with db.read_only(embedded.url(name, user=embedded.READER_ROLE), "bench") as conn:
        found = explain.explain_domain(conn, domain, until - timedelta(hours=1), until, overrides)
    print(f"   EXPLAIN plan class per {domain} query (1-hour window):")
    for p in found:
        print(f"     {p.query:<48} {p.plan_class:<40} cost {p.total_cost:>12,.0f}")
    return {p.query: p.plan_class for p in found}


PRECHECKS = """
import json, statistics, sys, time
from datetime import datetime, timedelta
from opslib import db, privileges, traffic, visibility
from opslib.timewindow import Window
url, until = sys.argv[1], datetime.fromisoformat(sys.argv[2])
window = Window(until - timedelta(hours=1), until)
steps = {"visibility": visibility.check, "privileges": privileges.check}
steps.update({f"traffic {rb}": (lambda rb: lambda c: traffic.measure(c, rb, window))(rb) for rb in traffic.runbooks()})
out = {}
with db.read_only(url, "bench") as conn:
    for name, step in steps.items():
        times = []
        for _ in range(5):
            t0 = time.perf_counter(); step(conn); times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
print(json.dumps(out))
"""


def compare_prechecks(name: str, as_of: str, runs: int, out: Path, baseline_tree: str) -> None:
    """The page before and after the checks every page runs first (privileges, traffic), runs
    interleaved on the same database so the machine's drift hits both alike; and each check's
    own time (median of 5, in one session)."""
    here = str(Path(__file__).resolve().parent.parent)
    before, after = [], []
    for _ in range(runs):
        before.append(run_page(name, as_of, 1, out, tree=baseline_tree)["wall_median_s"])
        after.append(run_page(name, as_of, 1, out, tree=here)["wall_median_s"])
    b, a = statistics.median(before), statistics.median(after)
    print(f"   page wall median: {baseline_tree} {b:.2f} s · {here} {a:.2f} s")
    print(f"   difference: {a - b:+.2f} s ({a / b - 1:+.1%}), {runs} runs each, interleaved")
    reader = embedded.url(name, user=embedded.READER_ROLE)
    proc = subprocess.run([sys.executable, "-c", PRECHECKS, reader, as_of], capture_output=True, text=True, check=True)
    for step, seconds in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        print(f"     {step:<22} {seconds * 1000:8.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo-scale", type=int, default=10)
    ap.add_argument("--big-scale", type=int, default=None, help="scale for ~10 M ledger rows (default: the seeder's)")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-long", action="store_true", help="without the 3x-history database at the demo scale")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the benchmark's cluster (printed OPSBOOK_HOME)")
    ap.add_argument("--admin-only", action="store_true", help="only the admin page: floor, scale 1 and the demo scale")
    ap.add_argument(
        "--compare-prechecks",
        metavar="TREE",
        help="only: the payments page at the demo scale, this tree against TREE (e.g. a checkout of main)",
    )
    args = ap.parse_args()
    from opslib import seed as seed_pkg

    big_scale = args.big_scale or getattr(seed_pkg, "LEDGER_10M_SCALE", 28)
    out = HOME / "evidence"
    print(f"# opsbook benchmark · {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} cores · OPSBOOK_HOME {HOME}")
    cpu_reference()
    embedded.start()
    try:
        if args.compare_prechecks:
            name, report = seed_db("bench_demo", args.demo_scale, "healthy")
            compare_prechecks(name, report.as_of.isoformat(), args.runs, out, args.compare_prechecks)
            return
        if args.admin_only:
            return admin_only(args.demo_scale, args.runs, out)
        seed_db("bench_s1", 1, "healthy")
        name, report = seed_db("bench_demo", args.demo_scale, "webhook_secret_mismatch")
        as_of = report.as_of.isoformat()
        run_page(name, as_of, args.runs, out)
        reconcile_day(name, as_of)
        plans(name, as_of)
        if not args.skip_long:
            # The same rate (equally busy hours) over 3x the history: a 3x table, the same window.
            name, report = seed_db("bench_long", args.demo_scale, "webhook_secret_mismatch", days=3 * profile.DAYS)
            as_of = report.as_of.isoformat()
            run_page(name, as_of, max(3, args.runs // 2), out)
            reconcile_day(name, as_of)
            plans(name, as_of)
        if not args.skip_big:
            name, report = seed_db("bench_big", big_scale, "webhook_secret_mismatch")
            as_of = report.as_of.isoformat()
            run_page(name, as_of, max(3, args.runs // 2), out)
            reconcile_day(name, as_of)
            plans(name, as_of)
    finally:
        embedded.stop()
        if not args.keep:
            shutil.rmtree(HOME, ignore_errors=True)  # ~10 GB with the big database
        print(
            f"\n(window of every page run: the hour ending at the seed's as_of; KST day for reconciliation: "
            f"the last full day before it; timezone {timewindow.KST})"
        )


def admin_only(demo_scale: int, runs: int, out: Path) -> None:
    """The §3-E page on its ops-manage drill at scale 1 and the demo scale, against the floor."""
    for scale in (1, demo_scale):
        name, report = seed_db(f"bench_admin_s{scale}", scale, "ops_manage_500_after_deploy")
        as_of = report.as_of.isoformat()
        base = floor(runs)
        figures = run_page(name, as_of, runs, out, runbook="admin")
        print(
            f"   admin page minus floor at scale {scale}: {figures['wall_median_s'] - base:.2f} s "
            f"(page {figures['wall_median_s']:.2f} s / floor {base:.2f} s = {figures['wall_median_s'] / base:.2f}x)"
        )
        plans(name, as_of, "admin")


if __name__ == "__main__":
    main()
