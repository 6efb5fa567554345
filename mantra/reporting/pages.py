"""Information pages, the language switch and 'Exit this page'."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for

from ..extensions import db
from ..web import sessions
from ..web.i18n import LANGUAGES
from ..web.security import safe_next
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


@bp.get("/staying-safe-online")
def safety():
    return render_template("reporting/safety.html")


@bp.get("/privacy")
def privacy():
    return render_template("reporting/privacy.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("reporting/accessibility.html")


@bp.get("/language/<code>")
def language(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("reporting.start")))


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
