"""The floor for bench/http_bench.py: Flask + Flask-SQLAlchemy, one table, and
a POST that INSERTs one short row and COMMITs. Nothing else (no CSRF, no
session, no rate limit, no encryption): what any Flask app on this stack pays.

    DATABASE_URL=postgresql+psycopg://... gunicorn bare_app:app
"""

from __future__ import annotations

import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareNote(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db.init_app(app)


@app.get("/")
def ready():
    return "ok"


@app.post("/note")
def add_note():
    db.session.add(BareNote(body=request.form["body"]))
    db.session.commit()
    return "", 204


def create_table() -> None:
    """Called once by the bench before gunicorn starts, not by each worker."""
    with app.app_context():
        db.create_all()
