"""The admin page's measurement parameters, kept as data next to its thresholds (checks/admin.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from opslib.errors import ConfigError


@dataclass(frozen=True)
class ExitSettings:
    """§3-E 종료 조건: ops-manage 2xx share over the last N invocations, held for hold_minutes."""

    last_invocations: int
    min_2xx_pct: float
    lookback_hours: int
    hold_minutes: int


@dataclass(frozen=True)
class AdminSettings:
    exit: ExitSettings
    rate_limits: Mapping[str, int]  # key prefix -> hits allowed per window ('default' for the rest)
    publish_flag: str
    admin_policies: tuple[tuple[str, str, str], ...]  # (schema, table, policy name)
    service_key_patterns: tuple[str, ...]

    def limit_for(self, prefix: str) -> int:
        return int(self.rate_limits.get(prefix, self.rate_limits["default"]))


@cache
def settings() -> AdminSettings:
    raw = yaml.safe_load((resources.files("opslib") / "checks" / "admin.yaml").read_text(encoding="utf-8"))
    try:
        ex = raw["exit"]
        return AdminSettings(
            exit=ExitSettings(
                int(ex["last_invocations"]),
                float(ex["min_2xx_pct"]),
                int(ex["lookback_hours"]),
                int(ex["hold_minutes"]),
            ),
            rate_limits={str(k): int(v) for k, v in raw["rate_limits"].items()},
            publish_flag=str(raw["publish_flag"]),
            admin_policies=tuple((str(s), str(t), str(p)) for s, t, p in raw["admin_policies"]),
            service_key_patterns=tuple(str(p) for p in raw["service_key_patterns"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"checks/admin.yaml: bad or missing page setting ({exc})") from None
