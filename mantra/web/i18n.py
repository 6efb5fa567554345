"""Languages: English and a second language, chosen by the person."""

from __future__ import annotations

from datetime import date

from flask import Flask, has_request_context, redirect, request, session
from flask_babel import format_date, get_locale, gettext, pgettext

from ..extensions import babel
from .security import safe_next

LANGUAGES = {"en": "English", "pl": "Polski"}


def select_locale() -> str:
    if not has_request_context():  # a command or a job: English unless it forces another
        return "en"
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang") or request.accept_languages.best_match(LANGUAGES) or "en"


def character_count_text() -> dict:
    """GOV.UK character count messages in the page's language. GOV.UK Frontend
    picks the plural form (one, few, many, other) with Intl.PluralRules, and
    Polish needs all four. GOV.UK Frontend fills in `%{count}` itself.
    Each call is a literal so that pybabel can extract it."""
    return {
        "textareaDescriptionText": gettext("You can enter up to %{count} characters"),
        "charactersUnderLimitText": {
            "one": pgettext("count=one", "You have %{count} character remaining"),
            "few": pgettext("count=few", "You have %{count} characters remaining"),
            "many": pgettext("count=many", "You have %{count} characters remaining"),
            "other": pgettext("count=other", "You have %{count} characters remaining"),
        },
        "charactersAtLimitText": gettext("You have 0 characters remaining"),
        "charactersOverLimitText": {
            "one": pgettext("count=one", "You have %{count} character too many"),
            "few": pgettext("count=few", "You have %{count} characters too many"),
            "many": pgettext("count=many", "You have %{count} characters too many"),
            "other": pgettext("count=other", "You have %{count} characters too many"),
        },
    }


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories="translations",
        default_timezone="Europe/London",  # times are shown as people in Oxford read them
    )

    @app.context_processor
    def _languages():
        return {"languages": LANGUAGES, "current_lang": str(get_locale() or "en")}

    app.add_template_global(character_count_text)  # a global, so imported macros see it
    app.add_url_rule("/language/<code>", "language", language)  # every host: public and staff pages alike


def language(code: str):
    """Choose a language, then go back to the page (on this site only)."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"))


def written_date(answers: dict) -> str:
    """The date as people write it: '3 November 2026', or 'November 2026'."""
    try:
        day, month, year = (int(answers[k]) if answers.get(k) else None for k in ("day", "month", "year"))
        if day:
            return format_date(date(year, month, day), "d MMMM y")
        return format_date(date(year, month, 1), "LLLL y")
    except (TypeError, ValueError):
        return "/".join(str(answers.get(k)) for k in ("day", "month", "year") if answers.get(k))
