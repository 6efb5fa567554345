"""The kit every room shares: the GOV.UK form kit, sealed server-side
sessions, uploads, security headers and error pages, languages, and who is
signed in. Rooms import from here; nothing here imports a room."""

from flask import Flask, current_app, redirect, request, url_for
from werkzeug.routing import IntegerConverter

from ..domain import limits
from ..extensions import db
from . import health, i18n, security, sessions, uploads


class RowId(IntegerConverter):
    """`<int:...>` in every route: a row id PostgreSQL's integer can hold, so
    /triage/referrals/99999999999999999999 is a plain 404, never a database error."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = RowId  # before any room's routes are added
    app.request_class = uploads.InMemoryRequest
    i18n.init_app(app)
    security.init_app(app)
    health.init_app(app)
    app.add_template_global(limits, "limits")  # messages render limits from the one place they are set
    app.add_template_global(home_url)

    if app.config["SERVE"] == "staff":  # the staff host's front door is the sign-in
        app.add_url_rule("/", "home", lambda: redirect(url_for("triage.sign_in")))

    @app.errorhandler(sessions.SessionChanged)
    def _changed_elsewhere(_error):
        # Another tab changed these answers (or sent the report) meanwhile:
        # nothing was written; show the page again as it now stands.
        db.session.rollback()
        return redirect(request.full_path if request.query_string else request.path)


def home_url() -> str:
    """The start page of this host: reporting on a public host, sign-in on a staff one."""
    return url_for("reporting.start") if "reporting.start" in current_app.view_functions else url_for("triage.sign_in")
