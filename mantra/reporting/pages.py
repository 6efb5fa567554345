"""Information pages (the easy-read one too), other ways to report, and 'Exit this page'."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, redirect, render_template, session, url_for
from flask_babel import lazy_gettext as _l

from ..domain.limits import (
    DRAFT_IDLE,
    FOLLOWUP_IDLE,
    FOLLOWUP_MAX,
    KEEP_CRIME_YEARS,
    KEEP_INCIDENT_MONTHS,
    SENT_HELD,
    hours,
    minutes,
)
from ..extensions import db
from ..models import Partner, PartnerKind
from ..web import sessions
from . import bp
from .journey import centre_signed_out, held_receipt
from .steps import first_incomplete


@bp.get("/")
def start():
    answers = sessions.load(sessions.DRAFT)
    in_progress = None
    if answers and "sent" not in answers and not centre_signed_out(answers):  # not sent yet: offer to carry on
        missing = first_incomplete(answers)
        in_progress = url_for("reporting.question", step=missing.slug) if missing else url_for("reporting.check")
    return render_template("reporting/start.html", in_progress=in_progress, receipt=held_receipt())


@bp.get("/easy-read")
def easy_read():
    return render_template("reporting/easy_read.html", easy_read=True)


def reporting_centres() -> list[Partner]:
    """The active third-party reporting centres, for 'Other ways to report'."""
    centres = sa.select(Partner).where(Partner.kind == PartnerKind.CENTRE, Partner.active).order_by(Partner.name)
    return list(db.session.scalars(centres))


@bp.context_processor
def _other_ways():
    # A function, so only the pages that list the centres look them up.
    return {"reporting_centres": reporting_centres}


@bp.get("/staying-safe-online")
def safety():
    return render_template("reporting/safety.html")


@bp.get("/privacy")
def privacy():
    return render_template("reporting/privacy.html", retention=_retention())


def _retention() -> list[tuple]:
    """How long each kind of record is kept, from the limits the code applies."""
    return [
        (
            _l("Answers you have not sent"),
            _l(
                "Deleted %(hours)d hours after your last answer, or at once with ‘Exit this page’",
                hours=hours(DRAFT_IDLE),
            ),
        ),
        (
            _l("Your receipt code on the confirmation page"),
            _l(
                "Shown on the device that sent the report for %(minutes)d minutes, then gone: we never keep the code itself",
                minutes=minutes(SENT_HELD),
            ),
        ),
        (
            _l("Signing in with your receipt code"),
            _l(
                "Ends after %(idle)d minutes without activity, and after %(max)d minutes at most",
                idle=minutes(FOLLOWUP_IDLE),
                max=minutes(FOLLOWUP_MAX),
            ),
        ),
        (
            _l("Reports of crimes"),
            _l("%(years)d years after the organisations close the case", years=KEEP_CRIME_YEARS),
        ),
        (
            _l("Reports of hate incidents that are not crimes"),
            _l(
                "Personal details are kept only where an organisation records a real risk of significant harm or "
                "of a future crime; otherwise they are erased %(months)d months after the case is closed",
                months=KEEP_INCIDENT_MONTHS,
            ),
        ),
        (
            _l("Statistics"),
            _l("Kept, because they hold no personal details: only counts, such as the month and the part of the city"),
        ),
    ]


@bp.get("/accessibility")
def accessibility():
    return render_template("reporting/accessibility.html")


@bp.get("/exit")
def exit_page():
    """Delete this browser's draft and follow-up session, clear the cookie, and
    leave for a neutral site. The one GET that writes: 'Exit this page' is a
    plain link (it must work without JavaScript, at once), and deleting what
    the person typed is the point of it. It deletes only this browser's own rows."""
    sessions.discard(sessions.DRAFT)
    sessions.discard(sessions.FOLLOWUP)
    db.session.commit()
    session.clear()
    response = redirect(current_app.config["NEUTRAL_EXIT_URL"])
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
