"""The migration lint's rules as data (opslib/gates/rules.yaml), loaded into frozen records."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from opslib.masking import PII_COLUMNS


class Level(enum.StrEnum):
    """A rule's severity. ERROR blocks the merge (exit 1); WARNING is reported only."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    severity: Level
    title: str
    why: str
    rewrite: str
    squawk: str
    strong_migrations: str
    waivable: bool = True


@dataclass(frozen=True)
class RuleBook:
    rules: dict[str, Rule]
    exposed_schemas: frozenset[str]
    client_roles: frozenset[str]
    volatile_functions: frozenset[str]
    serial_types: frozenset[str]
    personal_data_columns: frozenset[str]

    def __getitem__(self, rule_id: str) -> Rule:
        return self.rules[rule_id]


@cache
def load() -> RuleBook:
    data = yaml.safe_load(resources.files("opslib.gates").joinpath("rules.yaml").read_text(encoding="utf-8"))
    rules = {}
    for r in data["rules"]:
        rule = Rule(
            id=r["id"],
            group=r["group"],
            severity=Level(r["severity"]),
            title=r["title"],
            why=r["why"],
            rewrite=r["rewrite"],
            squawk=str(r.get("squawk", "-")),
            strong_migrations=str(r.get("strong_migrations", "-")),
            waivable=bool(r.get("waivable", True)),
        )
        if rule.id in rules:
            raise ValueError(f"rules.yaml: rule {rule.id!r} is defined twice")
        rules[rule.id] = rule
    return RuleBook(
        rules=rules,
        exposed_schemas=frozenset(data["exposed_schemas"]),
        client_roles=frozenset(data["client_roles"]),
        volatile_functions=frozenset(data["volatile_functions"]),
        serial_types=frozenset(data["serial_types"]),
        personal_data_columns=frozenset(data["personal_data_columns"]) | frozenset(PII_COLUMNS),
    )
