"""Coordinators (staff host only): the reporting-levels dashboard and the
monthly files, from facets only (domain/levels.py). Every view declares its
permission (web/staff.py); the guard below enforces it."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_date, gettext

from ..domain import audit, exports, levels
from ..domain.permissions import Permission
from ..extensions import db
from ..models import utcnow
from ..web import staff
from ..web.staff import needs
from . import charts

bp = Blueprint("levels", __name__, template_folder="templates", url_prefix="/levels")
staff.guard(bp)


def _offered() -> list[date]:
    """The months the dashboard offers: this month so far, then two years back."""
    now = exports.whole_month_before(utcnow())
    return [levels.shift(now, 1 - n) for n in range(0, 25)]


def _month(text: str | None) -> date:
    """The month asked for (?month=YYYY-MM, this month or an earlier one), or the last whole month."""
    if not text:
        return _offered()[1]
    try:
        month = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        abort(404)
    if not date(2000, 1, 1) <= month <= _offered()[0]:
        abort(404)  # nothing to count yet
    return month


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
        months=_offered(),
        so_far=month == _offered()[0],
        month_name=gettext("%(month)s so far", month=format_date(month, "MMMM y"))
        if month == _offered()[0]
        else format_date(month, "MMMM y"),
        found=found,
        charted=charted,
        series=series,
        series_chart=charts.columns(
            gettext("Reports received, month by month"),
            [
                (format_date(m, "MMM"), format_date(m, "y") if n == 0 or m.month == 1 else "", count)
                for n, (m, count) in enumerate(series)
            ],
        ),
        change=_change,
        before=levels.shift(month, -1),
        year_before=levels.shift(month, -12),
        ack=found.ack,
        formats=exports.FORMATS,
    )


@bp.get("/download/<int:year>-<int(fixed_digits=2):number>.<kind>")
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
