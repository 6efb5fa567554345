"""Information pages, the language switch and 'Exit this page'."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for

from ..security import safe_next
from . import bp
from .drafts import DRAFT, FOLLOWUP, discard_draft, forget_sent_report


@bp.get("/")
def start():
    forget_sent_report()
    return render_template("reporting/start.html")


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
    from ..i18n import LANGUAGES

    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("reporting.start")))


@bp.get("/exit")
def exit_page():
    """Clear the draft and the session, then leave for a neutral site."""
    discard_draft(DRAFT)
    discard_draft(FOLLOWUP)
    session.clear()
    response = redirect(current_app.config["NEUTRAL_EXIT_URL"])
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
