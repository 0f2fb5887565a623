"""A seed's progress for a person: one line per phase, not one per step (the steps' timings are
for the benchmark, which passes its own callback)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

# (a step name's prefix, the phase it belongs to), first match wins
_PHASES = (
    ("seeding scale", ""),  # the seeder's own opening line: the caller already said what it seeds
    ("done in", ""),  # the seeder's closing line: the caller prints the row count once
    ("index ", "building indexes"),
    ("ANALYZE", "updating planner statistics (ANALYZE)"),
    ("scenario ", "injecting the incident"),
    ("drop ", ""),
)
_LOADING = "loading tables"


class PhaseProgress:
    """Callable progress for seed(): prints each phase once, with the time since the start."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._started = time.perf_counter()
        self._seen: set[str] = set()
        self.steps = 0

    def __call__(self, message: str) -> None:
        self.steps += 1
        phase = next((p for prefix, p in _PHASES if message.startswith(prefix)), _LOADING)
        if not phase or phase in self._seen:
            return
        self._seen.add(phase)
        elapsed = time.perf_counter() - self._started
        print(f"  {elapsed:5.1f} s  {phase} ...", file=self._stream, flush=True)
