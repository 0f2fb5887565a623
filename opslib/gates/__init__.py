"""Gates: checks the app team runs before a change reaches production (runbook §2 naming, §5 rules).

`lint` (migration safety lint), `branch` (branch names), `pr` (pull-request body against the PR
template), with `report`/`sarif` for their output and `commands` for their CLI. No database needed.
"""
