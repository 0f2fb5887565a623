"""Every named query parses, declares exactly the parameters it binds, and names its runbook section."""

from __future__ import annotations

import pytest

from opslib import queries
from opslib.errors import ConfigError

ALL = sorted(queries.catalogue())


def test_catalogue_is_not_empty():
    assert "common.role_visibility" in ALL
    assert any(name.startswith("payments.") for name in ALL)


@pytest.mark.parametrize("name", ALL)
def test_declared_parameters_match_bound_parameters(name):
    q = queries.get(name)
    assert q.name == name.split(".", 1)[1]
    declared = {p.name for p in q.params}
    assert declared == q.bound_names(), f"{name}: declared {declared} but binds {q.bound_names()}"
    for p in q.params:
        assert p.type in queries.PARAM_TYPES, f"{name}: parameter {p.name} has unknown type {p.type}"
    assert q.section, f"{name} does not say which runbook section uses it"
    assert q.description, f"{name} does not say what it answers"
    assert "{" not in q.sql.replace("'{}'", ""), f"{name} looks like a format string"


def test_unknown_and_missing_parameters_fail_loudly(contract_db):
    from opslib import db

    with db.read_only(contract_db.reader, "test") as conn:
        with pytest.raises(ConfigError, match="unknown parameters"):
            queries.run(conn, "actions.flag_read", {"key": "x", "kye": "y"})
        with pytest.raises(ConfigError, match="missing parameters"):
            queries.run(conn, "actions.flag_read", {})


def test_unknown_query_name_is_a_clear_error():
    with pytest.raises(ConfigError, match="no query named"):
        queries.get("payments.nope")
