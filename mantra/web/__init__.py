"""The kit every room shares: the GOV.UK form kit, sealed server-side
sessions, uploads, security headers and error pages, languages, and who is
signed in. Rooms import from here; nothing here imports a room."""

from flask import Flask, redirect, request

from ..domain import limits
from ..extensions import db
from . import i18n, security, sessions, uploads


def init_app(app: Flask) -> None:
    app.request_class = uploads.InMemoryRequest
    i18n.init_app(app)
    security.init_app(app)
    app.add_template_global(limits, "limits")  # messages render limits from the one place they are set

    @app.errorhandler(sessions.SessionChanged)
    def _changed_elsewhere(_error):
        # Another tab changed these answers (or sent the report) meanwhile:
        # nothing was written; show the page again as it now stands.
        db.session.rollback()
        return redirect(request.full_path if request.query_string else request.path)
