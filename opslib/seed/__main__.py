"""python -m opslib.seed [--scale N] [--scenario NAME] [--database NAME]: seed an embedded database.

Creates (replaces) the named database in the embedded server with the contract, seeds it and
prints the step timings and row counts: the benchmark entry point.
"""

from __future__ import annotations

import argparse
import sys
import time

from opslib import embedded
from opslib.seed import seed
from opslib.seed.scenarios import SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opslib.seed", description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--scenario", default="healthy", choices=sorted(SCENARIOS))
    parser.add_argument("--database", default="seed_bench")
    args = parser.parse_args(argv)
    embedded.create_contract_database(args.database, replace=True)
    started = time.perf_counter()

    def progress(line: str) -> None:  # elapsed time first: when did the ledger hold its rows?
        print(f"{time.perf_counter() - started:6.1f} s  {line}", flush=True)

    report = seed(embedded.libpq_url(args.database), scale=args.scale, scenario=args.scenario, progress=progress)
    print(f"scale {report.scale} {report.scenario}: {report.seconds:.1f} s")
    for table, n in sorted(report.row_counts.items(), key=lambda kv: -kv[1]):
        print(f"  {table:32} {n:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
