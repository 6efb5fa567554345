"""The kit every room shares: the GOV.UK form kit, sealed server-side
sessions, uploads, security headers and error pages, languages, and who is
signed in. Rooms import from here; nothing here imports a room."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..domain import limits
    from . import i18n, security

    i18n.init_app(app)
    security.init_app(app)
    app.add_template_global(limits, "limits")  # messages render limits from the one place they are set
