"""Partner staff (staff host): two-factor sign-in and the member's account
(account.py), the referral inbox and the referral page (referrals.py).

Every view declares its permission (web/staff.py); the guard below enforces it.
"""

from __future__ import annotations

from flask import Blueprint

from ..web import staff

bp = Blueprint("triage", __name__, template_folder="templates", url_prefix="/triage")
staff.guard(bp)

from . import account, referrals  # noqa: E402,F401  (the views, registered on bp)
