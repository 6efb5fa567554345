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
from datetime import datetime, timedelta

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from flask_babel import format_time
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..crypto import vault
from ..domain.limits import STAFF_IDLE, STAFF_MAX, hours, minutes
from ..domain.permissions import Permission, allowed
from ..extensions import db
from ..models import ROLE_LABELS, StaffUser, utcnow
from . import sessions

SIGNED_IN = "triage"  # the sealed-session slot of a member signed in with both factors
SIGN_IN_PAGE = "triage.sign_in"
CHANGE_PASSWORD_PAGES = {"triage.change_password", "triage.sign_out", "triage.account", "triage.keep_alive"}
WARN_BEFORE_SECONDS = 5 * 60


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
    if "until" in data and datetime.fromisoformat(data["until"]) <= utcnow():
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
    bp.context_processor(lambda: {"timeout": timeout()})

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
        if g.staff is None:  # back to this page after signing in (a form's page, never its POST address)
            return redirect(url_for(SIGN_IN_PAGE, next=request.path if request.method == "GET" else None))
        if not permissions & allowed(g.staff[0]):
            abort(403)
        if g.staff[0].must_change_password and request.endpoint not in CHANGE_PASSWORD_PAGES:
            return redirect(url_for("triage.change_password"))  # an administrator chose it: theirs first
        return None


def replace_key(key: vault.PrivateKey) -> None:
    """The signed-in member's key was replaced (a password of their own): the
    session holds the new one, and still ends when it would have."""
    data = sessions.load(SIGNED_IN)
    left = datetime.fromisoformat(data["until"]) - utcnow()
    sessions.save(SIGNED_IN, {**data, "key": key_text(key)}, left)
    g.staff = (g.staff[0], key)


def member() -> tuple[StaffUser, vault.PrivateKey]:
    """The signed-in member and their unlocked key (the guard has checked them)."""
    if g.get("staff") is None:
        abort(redirect(url_for(SIGN_IN_PAGE, next=request.path if request.method == "GET" else None)))
    return g.staff


def may_open(user: StaffUser, path: str) -> bool:
    """Whether a page of this host (a path) is one this member may use: where
    a sign-in may return to."""
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path.split("?")[0], method="GET")
    except HTTPException:
        return False
    permissions = declared(endpoint)
    return Permission.SIGN_IN not in permissions and bool(permissions & allowed(user))


def home(user: StaffUser) -> str:
    """Where a member lands after signing in: the first page they may use, on this host."""
    can = allowed(user)
    for permission, endpoint, _text in PAGES:
        if permission in can and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("triage.account")


# --- time limits a member can see coming (WCAG 2.2.1) ---------------------------


def time_left() -> timedelta | None:
    """Until this member is signed out: 30 idle minutes, or the fixed end 10
    hours after signing in, whichever comes first."""
    if g.get("staff") is None:
        return None
    until = sessions.load(SIGNED_IN).get("until")
    left = STAFF_IDLE
    if until:
        left = min(left, datetime.fromisoformat(until) - utcnow())
    return max(left, timedelta(0))


def timeout() -> dict | None:
    """What the layout's time-limit dialog needs on a staff page."""
    left = time_left()
    if left is None:
        return None
    seconds = int(left.total_seconds())
    return {
        "seconds": seconds,
        "warn": min(WARN_BEFORE_SECONDS, seconds),
        "warning": warning(left),
        "ended": _l("You have been signed out. Copy anything you typed and not yet saved, then sign in again."),
        "explain": _l(
            "For security, you are signed out after %(minutes)d minutes without activity, and %(hours)d hours "
            "after signing in.",
            minutes=minutes(STAFF_IDLE),
            hours=hours(STAFF_MAX),
        ),
        "keep_alive": url_for("triage.keep_alive"),
    }


def warning(left: timedelta) -> str:
    return str(
        _l(
            "For security, you will be signed out at %(time)s unless you stay on this page. Anything you have "
            "typed and not saved would be lost.",
            time=format_time(utcnow() + left, "short"),
        )
    )
