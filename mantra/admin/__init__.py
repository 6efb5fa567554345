"""Administrators (staff host only): a partner administrator looks after their
own organisation's members, key grants and audit trail; a system
administrator looks after partners, users, areas and routing rules, and can
read the whole audit trail. Every view declares its permission (web/staff.py).
"""

from __future__ import annotations

from flask import Blueprint

from ..web import staff

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")
staff.guard(bp)

from . import organisations, people, replies, rules, views  # noqa: E402,F401  (the views, registered on bp)
