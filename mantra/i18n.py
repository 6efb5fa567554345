"""Languages: English and a second language, chosen by the person."""
from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale

from .extensions import babel

LANGUAGES = {"en": "English", "pl": "Polski"}


def select_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang") or request.accept_languages.best_match(LANGUAGES) or "en"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.context_processor
    def _languages():
        return {"languages": LANGUAGES, "current_lang": str(get_locale() or "en")}
