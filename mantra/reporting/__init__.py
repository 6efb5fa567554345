"""The public reporting journey: information pages and the question pages."""

from flask import Blueprint

bp = Blueprint("reporting", __name__, template_folder="templates")

# Autofill purposes for the person's own details (WCAG 1.3.5: browsers and
# assistive tools can fill them in). On a reporting centre's computer, shared
# by many people, autofill is off, so one person's details are never offered
# to the next.
AUTOFILL = {"name": "name", "email": "email", "news_email": "email", "phone": "tel"}
INPUT_TYPES = {"email": "email", "news_email": "email", "phone": "tel"}  # the right keyboard on a phone


@bp.context_processor
def _autofill():
    from ..web.access import centre_user

    def autofill(f) -> dict:
        params = {"type": INPUT_TYPES[f.name], "spellcheck": False} if f.name in INPUT_TYPES else {}
        purpose = AUTOFILL.get(f.name)
        if purpose is not None:
            params["autocomplete"] = "off" if centre_user() else purpose
        return params

    return {"autofill": autofill}


from . import journey, pages, sharing, timeouts  # noqa: E402,F401  (registers the routes)
