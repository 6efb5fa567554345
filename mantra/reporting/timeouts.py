"""Time limits people can see coming (WCAG 2.2.1): every page that is under a
time limit says so in plain words, and with JavaScript a dialog warns a few
minutes before the limit, with 'Stay on this page' to restart the clock.

The limits: answers in progress (DRAFT_IDLE), a follow-up session (idle, and a
fixed end), a reporting centre's sign-in (CENTRE_IDLE). The nearest one is the
one shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import jsonify, request, session
from flask_babel import format_time
from flask_babel import lazy_gettext as _l

from ..domain.limits import CENTRE_IDLE, DRAFT_IDLE, FOLLOWUP_IDLE, hours, minutes
from ..extensions import db, rate_limit
from ..models import utcnow
from ..web import sessions
from ..web.access import centre_user
from . import bp

WARN_BEFORE = timedelta(minutes=5)
DRAFT_PAGES = {"reporting.question", "reporting.check", "reporting.remove_person", "reporting.remove_file"}


@dataclass
class Limit:
    kind: str  # draft, followup or centre
    left: timedelta


def _limits() -> list[Limit]:
    found = []
    if centre_user() is not None:
        found.append(Limit("centre", CENTRE_IDLE))
    if request.endpoint == "followup.report" or (
        request.endpoint == "reporting.keep_alive" and sessions.FOLLOWUP in session
    ):
        held = sessions.load(sessions.FOLLOWUP, idle=FOLLOWUP_IDLE)
        if held:
            left = FOLLOWUP_IDLE
            if "until" in held:
                left = min(left, datetime.fromisoformat(held["until"]) - utcnow())
            found.append(Limit("followup", left))
    elif request.endpoint in DRAFT_PAGES or request.endpoint == "reporting.keep_alive":
        answers = sessions.load(sessions.DRAFT) if sessions.DRAFT in session else {}
        if answers and "sent" not in answers:
            found.append(Limit("draft", DRAFT_IDLE))
    return found


_WARNING = {
    "draft": _l("For your safety, we will delete your answers at %(time)s unless you stay on this page."),
    "followup": _l(
        "For your safety, you will be signed out at %(time)s unless you stay on this page. "
        "A message you are writing will be kept."
    ),
    "centre": _l(
        "For the privacy of the person you are helping, you will be signed out of this computer at %(time)s "
        "unless you stay on this page."
    ),
}
_ENDED = {
    "draft": _l(
        "For your safety, your earlier answers have been deleted. What you typed on this page is still here: "
        "select Continue to keep it."
    ),
    "followup": _l("You have been signed out. Your message is still here: select Send, then enter your receipt code."),
    "centre": _l("You have been signed out. Select Continue, then sign in again to carry on with the report."),
}


def _explain(kind: str):
    if kind == "draft":
        return _l(
            "For your safety, we delete your answers after %(hours)d hours without activity. The time starts "
            "again each time you go to a new page.",
            hours=hours(DRAFT_IDLE),
        )
    if kind == "centre":
        return _l(
            "You are signed out of this computer after %(minutes)d minutes without activity. The time starts "
            "again each time you go to a new page.",
            minutes=minutes(CENTRE_IDLE),
        )
    return None  # the follow-up page says it in its own words


def _warning(limit: Limit) -> str:
    return str(_WARNING[limit.kind] % {"time": format_time(utcnow() + limit.left, "short")})


def nearest() -> Limit | None:
    found = _limits()
    return min(found, key=lambda limit: limit.left) if found else None


@bp.app_context_processor
def _timeout():
    limit = nearest()
    if limit is None:
        return {"timeout": None}
    seconds = max(int(limit.left.total_seconds()), 0)
    return {
        "timeout": {
            "seconds": seconds,
            "warn": int(min(WARN_BEFORE.total_seconds(), seconds)),
            "warning": _warning(limit),
            "ended": _ENDED[limit.kind],
            "explain": _explain(limit.kind),
        }
    }


@bp.post("/keep-alive")
@rate_limit("question")
def keep_alive():
    """'Stay on this page': restart the clocks this browser is under; answer
    with the seconds left now (a follow-up session's fixed end does not move)."""
    answers = sessions.load(sessions.DRAFT) if sessions.DRAFT in session else {}
    if answers and "sent" not in answers:
        sessions.save(sessions.DRAFT, answers, DRAFT_IDLE)
        db.session.commit()
    limit = nearest()  # reading a slot restarts its idle clock (in the cookie)
    if limit is None:
        return jsonify(seconds=0)
    return jsonify(seconds=max(int(limit.left.total_seconds()), 0), warning=_warning(limit))
