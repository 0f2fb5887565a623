"""`opsbook lint-migrations`: every rule on its fixtures (bad, safe rewrite, waived), the parser's view
of comments and dollar quotes, plans and waivers, exit codes, JSON and SARIF. No database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from opslib import cli
from opslib.gates import lint
from opslib.gates.rules import Level, load

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "migrations"
RULES = list(load().rules)


@pytest.fixture(scope="module", autouse=True)
def embedded_server():  # overrides the suite's: these tests need no database
    yield


def _rules(report: lint.LintReport, *, waived: bool) -> set[str]:
    return {f.rule for f in report.findings if (f.waived is not None) == waived}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- every rule on its fixtures ---------------------------------------------------------------------


def test_every_rule_has_fixtures_and_a_readme_entry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert (FIXTURES / rule / "bad.sql").is_file(), rule
        assert f"`{rule}`" in readme, f"README's rule table lacks {rule}"
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_bad_fixture_raises_exactly_its_rule(rule):
    report = lint.lint_paths([FIXTURES / rule / "bad.sql"])
    expected = {rule, "rename"} if rule == "invalid-waiver" else {rule}  # an invalid waiver waives nothing
    assert _rules(report, waived=False) == expected
    assert not report.errors
    assert report.exit_code() == (1 if load()[rule].severity is Level.ERROR else 0)


@pytest.mark.parametrize("rule", [r for r in RULES if (FIXTURES / r / "safe.sql").exists()])
def test_safe_rewrite_passes(rule):
    report = lint.lint_paths([FIXTURES / rule / "safe.sql"])
    assert report.findings == [] and report.exit_code(Level.WARNING) == 0


@pytest.mark.parametrize("rule", [r for r in RULES if (FIXTURES / r / "waived.sql").exists()])
def test_waived_fixture_is_reported_with_its_reason(rule):
    path = FIXTURES / rule / "waived.sql"
    report = lint.lint_paths([path])
    assert _rules(report, waived=False) == set()
    assert _rules(report, waived=True) == {rule}
    reason = re.search(r"opsbook-lint: ignore [\w-]+ -- (.*?)(?:\*/)?$", path.read_text(), re.M).group(1).strip()
    assert report.findings[0].waived == reason
    assert report.exit_code(Level.WARNING) == 0


def test_a_secret_cannot_be_waived_and_is_never_printed(tmp_path, capsys):
    secret = "whsec_" + "FixtureOnlyNotARealSecret000"
    f = tmp_path / "001_secret.sql"
    f.write_text(
        "-- opsbook-lint: ignore secret-literal -- it is only the staging key, rotated monthly\n"
        f"SELECT vault.create_secret('{secret}', 'payment_webhook_secret');\n"
    )
    code, out, _ = run_cli(capsys, "lint-migrations", str(f))
    assert code == 1
    assert "error[secret-literal]" in out and "error[invalid-waiver]" in out and "cannot be waived" in out
    for fmt in ("text", "json", "sarif"):
        _, out, _ = run_cli(capsys, "lint-migrations", "--format", fmt, str(f))
        assert secret not in out and "FixtureOnly" not in out


# --- the parser's view: comments, dollar quotes, strings --------------------------------------------


def test_comments_dollar_bodies_and_strings_are_not_statements():
    sql = """
    SET lock_timeout = '3s';
    -- DROP TABLE public.refunds;
    /* ALTER TABLE public.user_profiles DROP COLUMN handle; /* nested */ TRUNCATE public.refunds; */
    CREATE OR REPLACE FUNCTION public.cleanup() RETURNS void LANGUAGE plpgsql SET search_path = '' AS $body$
    BEGIN
      -- ALTER TABLE ... RENAME inside a body: run later, not by this migration
      EXECUTE 'DROP TABLE public.refunds';
      DROP TABLE IF EXISTS pg_temp.scratch;
    END $body$;
    SELECT '-- opsbook-lint: ignore drop-table -- this is a string, not a waiver' AS s, $q$ TRUNCATE x; $q$;
    """
    report = lint.lint_text(sql)
    assert report.error is None and report.statements == 3
    assert report.findings == ()


def test_a_waiver_inside_a_string_waives_nothing():
    sql = "SELECT '-- opsbook-lint: ignore drop-table -- not a comment at all, a string'; DROP TABLE public.refunds;"
    report = lint.lint_text(sql)
    assert [(f.rule, f.waived) for f in report.findings] == [("drop-table", None)]


def test_waiver_belongs_to_its_own_statement_only():
    sql = (
        "-- opsbook-lint: ignore drop-table -- refunds is rebuilt by the next statement's job\n"
        "DROP TABLE public.refunds;\n"
        "DROP TABLE public.banners;\n"
    )
    findings = lint.lint_text(sql).findings
    assert [(f.line, f.waived is not None) for f in findings] == [(2, True), (3, False)]


def test_unparsable_file_is_an_error_not_a_pass(tmp_path, capsys):
    good = tmp_path / "001_ok.sql"
    good.write_text("SET lock_timeout = '5s';\nALTER TABLE public.banners ADD COLUMN note text;\n")
    bad = tmp_path / "002_broken.sql"
    bad.write_text("SELECT 1;\n-- 한국어 주석\nALTER TABLE public.banners ADD COLUMN;\n")
    code, out, _ = run_cli(capsys, "lint-migrations", str(tmp_path))
    assert code == 4
    assert '002_broken.sql: ERROR does not parse at 3:38: syntax error at or near ";"' in out
    assert "1 unparsable" in out
    code, out, _ = run_cli(capsys, "lint-migrations", "--format", "json", str(tmp_path))
    doc = json.loads(out)
    assert code == 4 == doc["exit_code"] and doc["summary"]["unparsable"] == 1
    assert [f["error"] is not None for f in doc["files"]] == [False, True]


# --- plans, down-migrations, run order ----------------------------------------------------------------


def test_plan_needs_both_lines_and_real_text():
    drop = "SET lock_timeout = '5s';\nALTER TABLE public.user_profiles DROP COLUMN locale;\n"
    only_rollback = lint.lint_text("-- rollback: ADD COLUMN locale text from the backup table\n" + drop)
    assert [f.message for f in only_rollback.findings] == [
        "DROP COLUMN public.user_profiles.locale: no backfill plan in this migration"
    ]
    placeholder = lint.lint_text("-- rollback: TODO\n-- backfill: TBD\n" + drop)
    assert {f.rule for f in placeholder.findings} == {"drop-column"}
    korean = lint.lint_text("/*\n 롤백: 백업 테이블에서 locale 복원\n 백필: 없음 — 새 행은 기본값\n*/\n" + drop)
    assert korean.findings == () and korean.plan.complete


def test_paired_down_migration_is_the_rollback_plan(tmp_path):
    up = tmp_path / "20260301000000_drop_locale.up.sql"
    up.write_text(
        "SET lock_timeout = '5s';\n-- backfill: none, locale is derived\n"
        "ALTER TABLE public.user_profiles DROP COLUMN locale;\n"
    )
    report = lint.lint_paths([up])
    assert _rules(report, waived=False) == {"drop-column"}  # no down file yet: no rollback
    (tmp_path / "20260301000000_drop_locale.down.sql").write_text(
        "SET lock_timeout = '5s'; ALTER TABLE public.user_profiles ADD COLUMN locale text; DROP TABLE public.x;"
    )
    report = lint.lint_paths([tmp_path])
    assert report.findings == []  # the down file itself drops as a rollback does
    assert report.files[1].plan.rollback == "paired down-migration 20260301000000_drop_locale.down.sql"


def test_files_apply_in_order_across_one_run(tmp_path):
    (tmp_path / "001.sql").write_text(
        "CREATE TABLE public.fan_letters (id uuid PRIMARY KEY, sender_id uuid REFERENCES auth.users(id), body text);\n"
        "ALTER TABLE public.fan_letters ENABLE ROW LEVEL SECURITY;\n"
        "CREATE INDEX fan_letters_body_idx ON public.fan_letters (body);\n"  # new table: no finding
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE public.user_profiles ADD CONSTRAINT handle_nn CHECK (handle IS NOT NULL) NOT VALID;\n"
    )
    (tmp_path / "002.sql").write_text(
        "SET lock_timeout = '5s';\nALTER TABLE public.user_profiles VALIDATE CONSTRAINT handle_nn;\n"
    )
    (tmp_path / "003.sql").write_text(
        "SET lock_timeout = '5s';\n"
        "ALTER TABLE public.user_profiles ALTER COLUMN handle SET NOT NULL;\n"
        "CREATE INDEX fan_letters_sender_idx ON public.fan_letters (sender_id);\n"
        "CREATE POLICY open ON public.fan_letters FOR SELECT TO anon USING (true);\n"
    )
    report = lint.lint_paths([tmp_path])
    got = [(Path(f.path).name, f.rule) for f in report.findings]
    assert got == [
        ("003.sql", "create-index-non-concurrently"),  # created by an earlier migration: an existing table
        ("003.sql", "permissive-policy-on-personal-data"),  # sender_id references auth.users
    ]
    assert "sender_id" in report.findings[1].message
    # linting 003 alone with the folder as context knows the same schema
    alone = lint.lint_paths([tmp_path / "003.sql"], context=[tmp_path])
    assert [(Path(f.path).name, f.rule) for f in alone.findings] == got
    assert [f.rule for f in lint.lint_paths([tmp_path / "003.sql"]).findings] == [
        "set-not-null-without-check",
        "create-index-non-concurrently",
        "permissive-policy-on-personal-data",
    ]


def test_temporary_and_unexposed_tables_need_no_rls():
    sql = "CREATE TEMP TABLE scratch (id int);\nCREATE TABLE private.jobs (id int);\nCREATE TABLE jobs (id int);\n"
    assert [f.message for f in lint.lint_text(sql).findings] == [
        "table public.jobs is created in exposed schema public without RLS"
    ]


def test_policy_true_on_a_table_without_personal_data_passes():
    report = lint.lint_text('CREATE POLICY "packages: read" ON public.dt_packages FOR SELECT TO anon USING (true);')
    assert report.findings == ()
    public_default = lint.lint_text("CREATE POLICY p ON public.refunds USING (true);")  # no TO: PUBLIC
    assert [f.rule for f in public_default.findings] == ["permissive-policy-on-personal-data"]


# --- the app's own SQL: contract and opslib/sql -------------------------------------------------------


def test_contract_and_opsbook_sql_parse_and_their_findings_are_the_known_ones(capsys):
    code, out, _ = run_cli(capsys, "lint-migrations", "--format", "json", "opslib/contract", "opslib/sql")
    doc = json.loads(out)
    assert doc["summary"]["unparsable"] == 0 and doc["summary"]["statements"] > 300
    found = {(Path(f["path"]).name, f["line"], f["rule"]) for fr in doc["files"] for f in fr["findings"]}
    # feature_flags.updated_by references auth.users: readable by anon through the `true` policy
    assert (
        "20_app.sql",
        _line("opslib/contract/20_app.sql", '"feature_flags: read"'),
        "permissive-policy-on-personal-data",
    ) in found
    # the recommended indexes file says "on production create them CONCURRENTLY" and does not
    assert {r for n, _, r in found if n == "recommended_indexes.sql"} == {"create-index-non-concurrently"}
    assert code == 1


def _line(path: str, needle: str) -> int:
    for i, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


# --- CLI: usage, formats, SARIF ----------------------------------------------------------------------


def test_cli_usage_errors_and_rules_listing(capsys, tmp_path):
    assert run_cli(capsys, "lint-migrations")[0] == 2
    code, _, err = run_cli(capsys, "lint-migrations", str(tmp_path / "missing"))
    assert code == 2 and "no such file" in err
    code, _, err = run_cli(capsys, "lint-migrations", str(tmp_path))
    assert code == 2 and "no .sql files" in err
    fixture = str(FIXTURES / "truncate" / "bad.sql")
    code, _, err = run_cli(capsys, "lint-migrations", "--sarif", str(tmp_path / "no" / "dir.sarif"), fixture)
    assert code == 2 and err.startswith("opsbook: error: cannot use") and "Traceback" not in err
    code, out, _ = run_cli(capsys, "lint-migrations", "--rules", "--format", "json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == RULES
    with pytest.raises(SystemExit) as exc:
        cli.main(["lint-migrations", "--help"])
    assert exc.value.code == 0 and "exit codes" in capsys.readouterr().out


def test_fail_on_warning(capsys):
    path = str(FIXTURES / "missing-lock-timeout" / "bad.sql")
    assert run_cli(capsys, "lint-migrations", path)[0] == 0
    assert run_cli(capsys, "lint-migrations", "--fail-on", "warning", path)[0] == 1


# SARIF 2.1.0's required properties and enums for what the lint writes (from the OASIS specification:
# sarifLog, run, tool, toolComponent, reportingDescriptor, result, location, region, suppression,
# invocation, notification).
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "properties": {
                                                        "level": {"enum": ["none", "note", "warning", "error"]}
                                                    }
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "invocations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["executionSuccessful"],
                            "properties": {
                                "executionSuccessful": {"type": "boolean"},
                                "toolExecutionNotifications": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["message"],
                                        "properties": {"message": _MESSAGE},
                                    },
                                },
                            },
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": _MESSAGE,
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                        "properties": {
                                                            "uri": {"type": "string", "format": "uri-reference"}
                                                        },
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "justification": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_shape(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out_file = tmp_path / "lint.sarif"
    paths = [str(FIXTURES / r / "waived.sql") for r in ("drop-table", "rename")]
    paths += [str(FIXTURES / "truncate" / "bad.sql")]
    broken = tmp_path / "broken.sql"
    broken.write_text("CREATE TABLE (;")
    code, out, _ = run_cli(
        capsys, "lint-migrations", "--format", "sarif", "--output", str(out_file), *paths, str(broken)
    )
    assert code == 4 and out == ""
    doc = json.loads(out_file.read_text())
    jsonschema.validate(doc, SARIF_SUBSET)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == RULES
    for r in run["results"]:
        assert rules[r["ruleIndex"]] == r["ruleId"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["drop-table"]["suppressions"][0]["kind"] == "inSource"
    assert "truncate" in by_rule and "suppressions" not in by_rule["truncate"]
    assert by_rule["truncate"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "tests/fixtures/migrations/truncate/bad.sql"
    )
    assert run["invocations"][0]["executionSuccessful"] is False
    assert "does not parse" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_definer_pinned_by_a_later_alter_function_passes():
    create = (
        "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;\n"
        "CREATE FUNCTION public.g() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$;\n"
    )
    report = lint.lint_text(create + "ALTER FUNCTION public.f() SET search_path = '';\n")
    assert [f.message for f in report.findings] == ["SECURITY DEFINER public.g without SET search_path"]


def test_hand_built_round_of_forms_the_runbook_allows():
    """Forms found by a hand-built round: each was a false positive before its fix."""
    restrictive = "CREATE POLICY r ON public.refunds AS RESTRICTIVE FOR SELECT TO authenticated USING (true);"
    assert lint.lint_text(restrictive).findings == ()
    function_form = "SELECT set_config('lock_timeout', '5s', false);\nALTER TABLE public.banners ADD COLUMN n text;"
    assert lint.lint_text(function_form).findings == ()
    plan_words = (
        "-- Rollback plan: ADD COLUMN locale back from the backup table\n-- Backfill plan: batches of 1000 rows\n"
        "SET lock_timeout = '5s';\nALTER TABLE public.user_profiles DROP COLUMN locale;"
    )
    assert lint.lint_text(plan_words).findings == ()
