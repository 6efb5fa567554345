"""A month's reporting levels as files: CSV for machines, XLSX for people
(typed numbers, frozen headers, one sheet per table, a notes sheet saying what
was hidden and why), HTML for reading in a browser. The figures come from
levels.py; a published file shows only what suppression.py allows."""

from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..extensions import db
from ..models import ExportRun, NotificationKind, utcnow
from . import audit, levels, notices
from .deadlines import LOCAL

FORMATS = ("csv", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def filename(month: date, kind: str, published: bool) -> str:
    return f"mantra-reporting-levels-{month:%Y-%m}-{'published' if published else 'internal'}.{kind}"


def notes(rule: levels.Rule | None) -> list[str]:
    """What a reader needs to read the figures right, in plain words."""
    said = [
        str(_l("Counted from the reports received in the month (Oxford time), from their coded answers only.")),
        str(
            _l(
                "Totals count reports. A report can have several motivations and several kinds of incident, so those rows add up to more than the total."
            )
        ),
        str(
            _l(
                "The five motivations the Home Office monitors are shown by their national names; local ones are in a table of their own."
            )
        ),
    ]
    if rule is None:
        said.append(str(_l("Internal figures: exact counts. Not for publication.")))
    elif rule.round_to:
        said.append(
            str(
                _l(
                    "Counts from 1 to %(most)d are shown as %(marker)s. Every other count is rounded to the nearest %(step)d. Some other counts are hidden too, so that no hidden count can be worked out from the totals.",
                    most=rule.hide_up_to,
                    marker=levels.HIDDEN,
                    step=rule.round_to,
                )
            )
        )
    else:
        said.append(
            str(
                _l(
                    "Counts from 1 to %(most)d are shown as %(marker)s. Some other counts are hidden too, so that no hidden count can be worked out from the totals or from the other tables.",
                    most=rule.hide_up_to,
                    marker=levels.HIDDEN,
                )
            )
        )
    return said


def csv_bytes(found: levels.Month, shown: dict | None) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(levels.csv_rows(found, shown))
    return out.getvalue().encode("utf-8")


# Excel allows 31 characters in a sheet's name: shorter names where a title is longer.
SHEETS = {
    "strand": "Motivation (Home Office)",
    "local_strand": "Motivation (local strands)",
    "partner": "Referrals by organisation",
    "outcome": "Referrals closed by outcome",
}


def sheet_title(table: levels.Table) -> str:
    """A table's sheet: 31 characters at most, none of []:*?/\\."""
    cleaned = "".join(ch for ch in SHEETS.get(table.key, str(table.title)) if ch not in "[]:*?/\\")
    return cleaned[:31]


def xlsx_bytes(found: levels.Month, shown: dict | None, rule: levels.Rule | None) -> bytes:
    """One sheet per table, numbers typed as numbers (a hidden count is the
    marker text), headers frozen, and a Notes sheet first."""
    with force_locale("en"):
        book = Workbook()
        first = book.active
        first.title = "Notes"
        first.append([f"MANTRA reporting levels, {format_date(found.month, 'MMMM y')}"])
        first["A1"].font = Font(bold=True, size=14)
        first.append([])
        for line in notes(rule):
            first.append([line])
        first.column_dimensions["A"].width = 110
        for row in first.iter_rows(min_row=3):
            row[0].alignment = Alignment(wrap_text=True)

        def value(table_key, row_key, exact):
            if shown is None:
                return exact
            hidden = shown[(table_key, row_key)]
            return levels.HIDDEN if hidden is None else hidden

        summary = book.create_sheet("Reports received")
        summary.append(["Month", "Reports received"])
        summary.append([found.month.strftime("%Y-%m"), value("received", "total", found.received)])
        for table in found.tables:
            sheet = book.create_sheet(sheet_title(table))
            sheet.append([str(table.title), "Count"])
            for row in table.rows:
                sheet.append([str(row.label), value(table.key, row.key, row.count)])
            if table.total is not None:
                sheet.append([str(table.total_label), value(table.key, "total", table.total)])
            if table.note:
                sheet.append([])
                sheet.append([str(table.note)])
        for sheet in book.worksheets[1:]:
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(1)].width = 60
            sheet.column_dimensions[get_column_letter(2)].width = 16
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def html_text(found: levels.Month, shown: dict | None, rule: levels.Rule | None) -> str:
    # The template alone, without the pages' context (no request: a command or a job makes it).
    with force_locale("en"):
        template = current_app.jinja_env.get_template("levels_export.html")
        return template.render(found=found, shown=shown, notes=notes(rule), hidden=levels.HIDDEN)


def build(found: levels.Month, kind: str, rule: levels.Rule | None) -> bytes:
    """The file, published (with `rule`) or internal (rule None)."""
    shown = levels.published(found, rule) if rule is not None else None
    if kind == "csv":
        return csv_bytes(found, shown)
    if kind == "xlsx":
        return xlsx_bytes(found, shown, rule)
    return html_text(found, shown, rule).encode("utf-8")


def whole_month_before(moment) -> date:
    """The last whole month before this moment, in Oxford time."""
    local = moment.astimezone(LOCAL).date()
    return levels.shift(date(local.year, local.month, 1), -1)


def published_file(month: date, kind: str, rule_name: str) -> bytes:
    """A whole month's published file: made once, then always the same (a
    late report changes the internal figures, never what was published)."""
    kept = db.session.scalar(sa.select(ExportRun).where(ExportRun.month == month, ExportRun.kind == kind))
    if kept is not None and kept.data is not None:
        return kept.data
    data = build(levels.month(month), kind, levels.RULES[rule_name])
    db.session.add(
        ExportRun(month=month, kind=kind, status="published", rule=rule_name, data=data, finished_at=utcnow())
    )
    db.session.flush()
    audit.record("levels.published", month=f"{month:%Y-%m}", kind=kind, rule=rule_name)
    return data


def publish_last_month(now, rule_name: str) -> int | None:
    """On or after the first of a month: last month's files are made (once),
    and coordinators get a content-free e-mail saying so. Returns the e-mail's
    id the first time, None afterwards. Idempotent: the e-mail's key is the month."""
    month = whole_month_before(now)
    for kind in FORMATS:
        published_file(month, kind, rule_name)
    return notices.add(NotificationKind.LEVELS_READY, f"levels/{month:%Y-%m}", reason=f"{month:%Y-%m}")
