"""What the audit knows that the catalogs do not say (posture.yaml): exposed schemas, personal data, expected roles."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Settings:
    exposed_schemas: tuple[str, ...]
    api_roles: tuple[str, ...]
    personal_data: dict[str, tuple[str, ...]]  # "schema.table" -> the columns that make it personal
    personal_buckets: tuple[str, ...]
    supabase_bypass_roles: tuple[str, ...]
    opsbook_roles: tuple[str, ...]
    opsbook_schemas: tuple[str, ...]

    def is_personal(self, table: str) -> bool:
        return table in self.personal_data

    def expected_bypass(self, role: str) -> str | None:
        """'supabase' or 'opsbook' for a role meant to bypass RLS, None for any other."""
        if role in self.supabase_bypass_roles:
            return "supabase"
        if role in self.opsbook_roles:
            return "opsbook"
        return None


@cache
def settings() -> Settings:
    raw = yaml.safe_load((resources.files("opslib.rls_audit") / "posture.yaml").read_text(encoding="utf-8"))
    return Settings(
        exposed_schemas=tuple(raw["exposed_schemas"]),
        api_roles=tuple(raw["api_roles"]),
        personal_data={k: tuple(v) for k, v in raw["personal_data"].items()},
        personal_buckets=tuple(raw["personal_buckets"]),
        supabase_bypass_roles=tuple(raw["expected_bypass_roles"]["supabase"]),
        opsbook_roles=tuple(raw["expected_bypass_roles"]["opsbook"]),
        opsbook_schemas=tuple(raw["opsbook_schemas"]),
    )


def parse_schemas(text: str) -> tuple[str, ...]:
    """'public, storage' -> ('public', 'storage'); empty -> the default of posture.yaml."""
    names = tuple(dict.fromkeys(s.strip().strip('"') for s in str(text or "").split(",") if s.strip()))
    return names or settings().exposed_schemas
