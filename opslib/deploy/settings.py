"""The post-deploy page's rules beyond the checks: the comparison test per check, kill switches, layers.

Read once from opslib/checks/deploy.yaml (`comparison:`, `kill_switches:`, `gateway_layers:`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from opslib.errors import ConfigError

TESTS = ("fisher", "poisson", "mannwhitney")


@dataclass(frozen=True)
class Settings:
    alpha: float
    tests: Mapping[str, str]  # check id -> test name
    kill_switches: Mapping[str, str]  # function -> opslib.actions name
    gateway_layers: Mapping[str, str]  # gateway area -> db | edge | web | platform


@cache
def settings() -> Settings:
    raw = yaml.safe_load((resources.files("opslib") / "checks" / "deploy.yaml").read_text(encoding="utf-8"))
    comparison = raw.get("comparison") or {}
    tests = dict(comparison.get("tests") or {})
    bad = sorted(t for t in tests.values() if t not in TESTS)
    if bad:
        raise ConfigError(f"checks/deploy.yaml: unknown comparison test {bad[0]!r} (one of {', '.join(TESTS)})")
    alpha = float(comparison.get("alpha", 0.01))
    if not 0 < alpha < 0.5:
        raise ConfigError("checks/deploy.yaml: comparison.alpha must be between 0 and 0.5")
    return Settings(
        alpha=alpha,
        tests=tests,
        kill_switches=dict(raw.get("kill_switches") or {}),
        gateway_layers=dict(raw.get("gateway_layers") or {}),
    )
