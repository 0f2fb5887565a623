"""§6 스모크 테스트 SOP (Quick 7): the seven cases in a real headless browser, judged as §6 says.

One module per part: cases (the data and the plan of a run), browser (Chromium through Playwright),
judge (each case's finding, evidence, the 10-15 minute rule, exit state), database (T2's dt_purchases
query and the counts a case is checked against), bleed (stop-the-bleed dry-runs), show (the report).
"""

from opslib.smoke.bleed import StopTheBleed, stop_the_bleed
from opslib.smoke.browser import CaseRun, drive, judge_list
from opslib.smoke.cases import Plan, plan
from opslib.smoke.database import AccountFacts, Purchases, account_facts, dt_purchases, facts_for_browser
from opslib.smoke.judge import CaseResult, Judged, judge, timing
from opslib.smoke.show import bleed as show_bleed
from opslib.smoke.show import case as show_case
from opslib.smoke.show import plan_summary as show_plan

__all__ = [
    "AccountFacts",
    "CaseResult",
    "CaseRun",
    "Judged",
    "Plan",
    "Purchases",
    "StopTheBleed",
    "account_facts",
    "drive",
    "dt_purchases",
    "facts_for_browser",
    "judge",
    "judge_list",
    "plan",
    "show_bleed",
    "show_case",
    "show_plan",
    "stop_the_bleed",
    "timing",
]
