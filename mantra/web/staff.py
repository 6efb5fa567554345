"""Who is signed in on the staff side, and whether they may use this page.

Every view of a staff room declares one permission with `@needs(...)`; the
room's guard (`guard(bp)`) loads the signed-in member before each request and
enforces it, and refuses a view that declares none, so a route added without
a decision is closed rather than open. The member's unlocked key is held in
a sealed server-side session (sessions.py) that only their cookie opens.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l

from ..crypto import vault
from ..domain.limits import STAFF_IDLE
from ..domain.permissions import Permission, allowed
from ..extensions import db
from ..models import ROLE_LABELS, StaffUser
from . import sessions

SIGNED_IN = "triage"  # the sealed-session slot of a member signed in with both factors
SIGN_IN_PAGE = "triage.sign_in"
CHANGE_PASSWORD_PAGES = {"triage.change_password", "triage.sign_out", "triage.account"}


def key_text(key: vault.PrivateKey) -> str:
    return base64.b64encode(key.seed).decode()


def held(slot: str, idle=None) -> tuple[StaffUser, vault.PrivateKey] | None:
    """The member and key a slot holds, if it opens and they may still sign in."""
    data = sessions.load(slot, idle=idle)
    if not data:
        return None
    user = db.session.get(StaffUser, data.get("user_id"))
    if user is None or Permission.OWN_ACCOUNT not in allowed(user):
        return None
    key = vault.PrivateKey(base64.b64decode(data["key"]))
    if key.public.raw != user.public_key:  # reset since: the session held the old key
        return None
    return user, key


def needs(*permissions: Permission) -> Callable:
    """Declare what a staff view needs (any one of these); the room's guard enforces it."""

    def declare(view):
        view.permissions = frozenset(permissions)
        return view

    return declare


def declared(endpoint: str | None) -> frozenset[Permission]:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "permissions", frozenset())


# The staff navigation: what each permission opens, in this order.
PAGES = (
    (Permission.WORK_REFERRALS, "triage.inbox", _l("Referrals")),
    (Permission.PARTNER_ADMIN, "admin.index", _l("Administration")),
    (Permission.SYSTEM_ADMIN, "admin.index", _l("Administration")),
    (Permission.LEVELS, "levels.index", _l("Reporting levels")),
    (Permission.OWN_ACCOUNT, "triage.account", _l("Your account")),
)


def pages() -> list[tuple[str, str]]:
    """The staff pages the signed-in member may use on this host, once each."""
    if g.get("staff") is None:
        return []
    can, shown = allowed(g.staff[0]), {}
    for permission, endpoint, text in PAGES:
        if permission in can and endpoint in current_app.view_functions:
            shown.setdefault(endpoint, text)
    return list(shown.items())


def _home_link() -> str:
    return home(g.staff[0]) if g.get("staff") else url_for(SIGN_IN_PAGE)


def guard(bp: Blueprint) -> None:
    """Load the signed-in member for every request to a staff room, and let
    through only what the view declared and the member's role allows."""

    bp.context_processor(lambda: {"staff_pages": pages, "staff_home": _home_link, "role_labels": ROLE_LABELS})

    @bp.before_request
    def _check():
        g.staff = held(SIGNED_IN, idle=STAFF_IDLE) if session.get(SIGNED_IN) else None
        if g.staff is None and session.get(SIGNED_IN):
            sessions.forget(SIGNED_IN)  # idle, revoked or expired: the cookie lets go, writing nothing
        if request.endpoint == "static" or request.endpoint is None:
            return None
        permissions = declared(request.endpoint)
        if not permissions:
            current_app.logger.error("staff route %s declares no permission: refused", request.endpoint)
            abort(403)
        if Permission.SIGN_IN in permissions:
            return None
        if g.staff is None:
            return redirect(url_for(SIGN_IN_PAGE, next=request.path))
        if not permissions & allowed(g.staff[0]):
            abort(403)
        if g.staff[0].must_change_password and request.endpoint not in CHANGE_PASSWORD_PAGES:
            return redirect(url_for("triage.change_password"))  # an administrator chose it: theirs first
        return None


def member() -> tuple[StaffUser, vault.PrivateKey]:
    """The signed-in member and their unlocked key (the guard has checked them)."""
    if g.get("staff") is None:
        abort(redirect(url_for(SIGN_IN_PAGE, next=request.path)))
    return g.staff


def home(user: StaffUser) -> str:
    """Where a member lands after signing in: the first page they may use, on this host."""
    can = allowed(user)
    for permission, endpoint, _text in PAGES:
        if permission in can and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("triage.account")
