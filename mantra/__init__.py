"""MANTRA: hate-crime third-party reporting and referral."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .extensions import db, limiter, mail, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("MANTRA_INSTANCE_PATH"))
    app.config.update(config_module.load(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if app.config["SERVE"] == "staff":
        app.config["SESSION_COOKIE_NAME"] = "__Host-mantra_staff"
    config_module.private_folder(Path(app.instance_path))  # keys, secrets and the SQLite file live here
    for database in (app.config["SQLALCHEMY_DATABASE_URI"], *app.config["SQLALCHEMY_BINDS"].values()):
        if database.startswith("sqlite:///") and not Path(database[len("sqlite:///") :]).exists():
            os.close(
                os.open(database[len("sqlite:///") :], os.O_CREAT | os.O_WRONLY, 0o600)
            )  # private from the first byte

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("mantra"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    # The library under another name, for the few templates we wrap.
                    "govuk_frontend_original": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")

    if app.config.get("TRUSTED_PROXIES"):
        # Behind a load balancer: take the client address and scheme from it,
        # so rate limits count people, not the balancer.
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    WTFormsHelpers(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    mail.init_app(app)
    limiter.init_app(app)

    from . import web

    web.init_app(app)

    from .cli import mantra_cli

    for blueprint in rooms(app.config["SERVE"]):
        app.register_blueprint(blueprint)
    app.cli.add_command(mantra_cli)

    # Werkzeug's request log carries client addresses: keep it out.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def rooms(serve: str) -> list:
    """The blueprints one web process serves: an internet-facing public host
    has no staff route at all, so no staff cookie is ever set there and no
    staff page can be reached through it, whatever the path."""
    from . import admin, centre, followup, levels, triage
    from .reporting import bp as reporting

    public, staff = [reporting, followup.bp, centre.bp], [triage.bp, admin.bp, levels.bp]
    chosen = {"public": public, "staff": staff, "both": public + staff}.get(serve)
    if chosen is None:
        raise ValueError(f"MANTRA_SERVE must be public, staff or both, not {serve!r}")
    return chosen
