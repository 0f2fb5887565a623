"""A small stand-in of the fan platform's web app, for the smoke page's tests only.

It serves the seven Quick 7 routes at the defaults checks/smoke.yaml documents for the real app
(/login, /, /wallet/charge, /subscriptions, /messages, /profile, /funding, /admin/dashboard), from a
contract database, on 127.0.0.1 at a random port. Switches break one case each, the way the runbook's
incidents look from a browser:

  login_loop           the login form "succeeds" but the session is never kept: back to /login (T1)
  packages_broken      /api/packages answers 500; the charge page keeps its spinner (T2)
  error_as_empty       /api/subscriptions answers 500 and the page shows "no subscriptions" (T3)
  messages_broken      sending works, but the other device never receives (T4)
  share_disabled       the profile's share button is rendered disabled (T5)
  campaign_detail_500  the campaign detail page answers 500 (T6)
  admin_list_empty     the admin dashboard's list comes back empty (T7)
"""

from standin_app.server import SWITCHES, StandIn, hash_password, serve

__all__ = ["SWITCHES", "StandIn", "hash_password", "serve"]
