"""Coordinators (staff host only): the reporting-levels dashboard and the
monthly files, from facets only (domain/levels.py). Every view declares its
permission (web/staff.py); the guard below enforces it."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_date

from ..domain import audit, exports, levels
from ..domain.permissions import Permission
from ..extensions import db
from ..models import utcnow
from ..web import staff
from ..web.staff import needs
from . import charts

bp = Blueprint("levels", __name__, template_folder="templates", url_prefix="/levels")
staff.guard(bp)


def _month(text: str | None) -> date:
    """The month asked for (?month=YYYY-MM), or the last whole month."""
    if text:
        try:
            return datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            abort(404)
    return levels.shift(date(utcnow().year, utcnow().month, 1), -1)


def _change(now: int, before: int | None) -> str:
    """ "+12%", or a dash where there is nothing to compare with."""
    if not before:
        return "–"
    return f"{(now - before) / before:+.0%}"


@bp.get("/")
@needs(Permission.LEVELS)
def index():
    """The month's figures (exact: coordinators only), with charts and their tables."""
    month = _month(request.args.get("month"))
    found = levels.compare(month)
    series = levels.received_by_month(month)
    db.session.commit()  # the whole months' counts, kept
    charted = [
        (table, charts.bars(str(table.title), [(str(r.label), r.count) for r in table.rows])) for table in found.tables
    ]
    return render_template(
        "levels/index.html",
        form=None,
        month=month,
        months=[
            levels.shift(date(utcnow().year, utcnow().month, 1), -n) for n in range(0, 25)
        ],  # this month so far, then two years
        found=found,
        charted=charted,
        series=series,
        series_chart=charts.columns(
            "Reports received, month by month",
            [(format_date(m, "MMM yy"), count) for m, count in series],
        ),
        change=_change,
        before=levels.shift(month, -1),
        year_before=levels.shift(month, -12),
        ack=found.ack,
        formats=exports.FORMATS,
    )


@bp.get("/download/<int:year>-<int:number>.<kind>")
@needs(Permission.LEVELS)
def download(year: int, number: int, kind: str):
    """A month's file: published (small counts hidden) unless ?internal=1."""
    if kind not in exports.FORMATS or not 1 <= number <= 12 or not 2000 <= year <= 2100:
        abort(404)
    user, _key = staff.member()
    month = date(year, number, 1)
    internal = request.args.get("internal") == "1"
    if internal:
        data = exports.build(levels.month(month), kind, None)
    elif month > exports.whole_month_before(utcnow()):
        abort(404)  # a month not over yet is never published: its figures would change
    else:
        data = exports.published_file(month, kind, current_app.config["SUPPRESSION_RULE"])
    audit.record(
        "levels.downloaded",
        actor_id=user.id,
        partner_id=user.partner_id,
        month=f"{month:%Y-%m}",
        kind=kind,
        internal=internal,
    )
    db.session.commit()
    response = Response(data, content_type=exports.MEDIA_TYPES[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{exports.filename(month, kind, not internal)}"'
    return response
