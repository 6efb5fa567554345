"""Headers and error pages for every response (DESIGN section 8)."""

from __future__ import annotations

import traceback
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from ..domain.limits import MAX_FILE_BYTES, megabytes
from ..extensions import seconds_to_wait

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

# Plain-English error pages: status -> (title, what happened and what to do).
ERRORS = {
    400: (
        _l("Sorry, there is a problem with that request"),
        _l("Go back, check what you entered and try again. Nothing you have already submitted has been lost."),
    ),
    403: (
        _l("You cannot see this page"),
        _l("You may need to sign in, or this page belongs to another organisation."),
    ),
    404: (
        _l("Page not found"),
        _l("If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."),
    ),
    405: (
        _l("Page not found"),
        _l("If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."),
    ),
    413: (_l("That was too large to send"), None),  # the limits are in the text: see too_large()
    429: (_l("Too many attempts"), None),  # how long to wait is in the text: see error_page()
    500: (
        _l("Sorry, there is a problem with the service"),
        _l(
            "Please try again later. If you have submitted a report and received a reference number, your report is safe."
        ),
    ),
}


def too_large() -> str:
    return gettext(
        "Each file must be smaller than %(file_mb)d MB, and everything sent at once smaller than %(request_mb)d MB. "
        "Go back and choose a smaller file.",
        file_mb=megabytes(MAX_FILE_BYTES),
        request_mb=megabytes(current_app.config["MAX_CONTENT_LENGTH"]),
    )


def safe_next(target: str | None, default: str) -> str:
    """A path on this site to return to, or `default`: never another site."""
    target = target or ""
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or parts.scheme
        or parts.netloc
        or "\\" in target
        or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        return default
    return target


def error_page(code: int, body=None):
    title, text = ERRORS.get(code, ERRORS[500])
    if code == 413:
        text = too_large()
    if code == 429:
        text = gettext(
            "For your security, please wait %(minutes)d minutes and then try again. Nothing you have already sent "
            "has been lost.",
            minutes=max(1, -(-seconds_to_wait() // 60)),
        )
    return render_template("error.html", title=title, body=body or text), code


def csrf_failed_page():
    return error_page(
        400, _l("This page was open for too long or was sent twice. Go back, refresh the page and try again.")
    )


csrf = CSRFProtect()  # every form; the web tier's alone, so workers never load Flask-WTF


def init_app(app: Flask) -> None:
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            # Pages may show what someone typed: never keep them in a cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def _csrf(_error):  # pages that can show what was sent again have their own handler
        return csrf_failed_page()

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return error_page(error.code if error.code in ERRORS else 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # Log the type and the frames, never the message: it may hold content.
        app.logger.error(
            "unhandled %s in %s\n%s",
            type(error).__name__,
            request.endpoint,
            "".join(traceback.format_tb(error.__traceback__)),
        )
        return error_page(500)
