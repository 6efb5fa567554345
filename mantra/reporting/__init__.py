"""The public reporting journey: information pages and the question pages."""

from flask import Blueprint

bp = Blueprint("reporting", __name__, template_folder="templates")

from . import journey, pages  # noqa: E402,F401  (registers the routes)
