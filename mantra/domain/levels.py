"""Reporting levels (DESIGN section 7): one month's counts, from facets only.

Every table is a SQL GROUP BY over facet columns; nothing is decrypted and no
Python loop walks the reports. A report is counted once in each table whose
question has one answer (type, area, channel, who reported, named or not),
and once under each of its strands and kinds (so those rows add up to more
than the reports received). Referrals and outcomes have totals of their own.

`month(...)` gives the exact figures (internal, for coordinators);
`published(...)` the same tables with small counts hidden so that nothing
hidden can be worked out (domain/suppression.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    CHANNEL_LABELS,
    KIND_LABELS,
    MONITORED_STRANDS,
    OUTCOME_LABELS,
    REPORTER_ROLE_LABELS,
    STRAND_LABELS,
    Area,
    AreaKind,
    IncidentType,
    Partner,
    Referral,
    Report,
    ReportKind,
    ReportStrand,
    Strand,
)
from .deadlines import LOCAL
from .suppression import RULES, Publication, Relation, Rule, protect  # noqa: F401 (RULES: the choice of rule)

# The Home Office's names for the five centrally monitored strands, so the
# partnership's figures can be set beside the national ones; local strands apart.
HOME_OFFICE_STRANDS = {
    Strand.RACE: _l("Race or ethnicity"),
    Strand.RELIGION: _l("Religion or beliefs"),
    Strand.SEXUAL_ORIENTATION: _l("Sexual orientation"),
    Strand.DISABILITY: _l("Disability"),
    Strand.TRANSGENDER: _l("Transgender identity"),
}
TYPE_WORDS = {
    IncidentType.CRIME: _l("Hate crime"),
    IncidentType.INCIDENT: _l("Non-crime hate incident"),
    IncidentType.NOT_SURE: _l("Not yet known"),
}


@dataclass
class Row:
    key: str
    label: object
    count: int


@dataclass
class Table:
    key: str
    title: object
    rows: list[Row]
    total_label: object
    total: int | None = None  # a total of its own; None: the reports received
    once_per_report: bool = True  # False: a report counts under each of its answers
    note: object = None


@dataclass
class Month:
    month: date
    received: int
    tables: list[Table] = field(default_factory=list)


def bounds(month: date) -> tuple[datetime, datetime]:
    """The month in Oxford's time, as UTC instants [start, end)."""
    start = datetime(month.year, month.month, 1, tzinfo=LOCAL)
    after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=LOCAL)
    return start.astimezone(UTC), after.astimezone(UTC)


def _in_month(month: date):
    start, end = bounds(month)
    return sa.and_(Report.submitted_at >= start, Report.submitted_at < end)


def _counts(column, month: date, *joins) -> dict:
    query = sa.select(column, sa.func.count()).select_from(Report)
    for target, on in joins:
        query = query.join(target, on)
    return dict(db.session.execute(query.where(_in_month(month)).group_by(column)).all())


def _rows(counted: dict, labels: dict) -> list[Row]:
    return [Row(str(getattr(k, "value", k)), label, counted.get(k, 0)) for k, label in labels.items()]


def month(month_start: date) -> Month:
    """The exact figures for one month (reports received in it, Oxford time)."""
    received = db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(_in_month(month_start)))
    strands = _counts(ReportStrand.strand, month_start, (ReportStrand, ReportStrand.report_id == Report.id))
    kinds = _counts(ReportKind.kind, month_start, (ReportKind, ReportKind.report_id == Report.id))
    areas = db.session.execute(
        sa.select(Area.id, Area.name).order_by(Area.kind != AreaKind.NEIGHBOURHOOD, Area.sort_order)
    )
    by_area = _counts(Report.area_id, month_start)
    partners = db.session.execute(sa.select(Partner.id, Partner.name).order_by(Partner.name)).all()
    start, end = bounds(month_start)
    referred = dict(
        db.session.execute(
            sa.select(Referral.partner_id, sa.func.count())
            .join(Report, Report.id == Referral.report_id)
            .where(_in_month(month_start))
            .group_by(Referral.partner_id)
        ).all()
    )
    closed = dict(
        db.session.execute(
            sa.select(Referral.outcome, sa.func.count())
            .where(Referral.closed_at >= start, Referral.closed_at < end)
            .group_by(Referral.outcome)
        ).all()
    )
    local = {s: STRAND_LABELS[s] for s in Strand if s not in MONITORED_STRANDS}
    tables = [
        Table("type", _l("Type"), _rows(_counts(Report.incident_type, month_start), TYPE_WORDS), _l("Reports")),
        Table(
            "strand",
            _l("Perceived motivation (Home Office monitored strands)"),
            _rows(strands, HOME_OFFICE_STRANDS),
            _l("Reports"),
            once_per_report=False,
            note=_l("A report can have more than one motivation, so these rows add up to more than the reports."),
        ),
        Table(
            "local_strand",
            _l("Perceived motivation (local strands)"),
            _rows(strands, local),
            _l("Reports"),
            once_per_report=False,
            note=_l("Counted in this partnership only; not part of the national figures."),
        ),
        Table("kind", _l("What happened"), _rows(kinds, KIND_LABELS), _l("Reports"), once_per_report=False),
        Table(
            "area",
            _l("Where"),
            [Row(str(i), name, by_area.get(i, 0)) for i, name in areas]
            + [Row("none", _l("Not known"), by_area.get(None, 0))],
            _l("Reports"),
        ),
        Table(
            "channel",
            _l("How it was reported"),
            _rows(_counts(Report.channel, month_start), CHANNEL_LABELS),
            _l("Reports"),
        ),
        Table(
            "reporter_role",
            _l("Who reported"),
            _rows(_counts(Report.reporter_role, month_start), REPORTER_ROLE_LABELS),
            _l("Reports"),
        ),
        Table(
            "named",
            _l("Named or anonymous"),
            _rows(_counts(Report.named, month_start), {True: _l("Gave a name"), False: _l("Anonymous")}),
            _l("Reports"),
        ),
        Table(
            "partner",
            _l("Referrals, by organisation"),
            [Row(str(i), name, referred.get(i, 0)) for i, name in partners],
            _l("Referrals"),
            total=sum(referred.values()),
            note=_l("Referrals of the reports received this month. A report can go to several organisations."),
        ),
        Table(
            "outcome",
            _l("Referrals closed, by outcome"),
            _rows(closed, OUTCOME_LABELS),
            _l("Referrals closed"),
            total=sum(v for k, v in closed.items() if k in OUTCOME_LABELS),
        ),
    ]
    return Month(month_start, received, tables)


def _publication(found: Month) -> tuple[Publication, dict]:
    """Every count of the month as cells, with the relations a reader can see."""
    values, relations, place = [found.received], [], {("received", "total"): 0}
    for table in found.tables:
        if table.total is None:
            total = 0
        else:
            total = len(values)
            values.append(table.total)
            place[(table.key, "total")] = total
        parts = []
        for row in table.rows:
            place[(table.key, row.key)] = len(values)
            parts.append(len(values))
            values.append(row.count)
        relations.append(Relation(total, parts, exact=table.once_per_report))
    return Publication(values, relations), place


def published(found: Month, rule: Rule = RULES["default"]) -> dict:
    """{(table key, row key or "total"): shown count, or None where hidden}."""
    publication, place = _publication(found)
    shown = protect(publication, rule)
    return {key: shown[i] for key, i in place.items()}


# --- files ------------------------------------------------------------------------

HIDDEN = "[c]"  # as in official statistics: a count hidden to protect people
CSV_HEADER = ("table", "title", "row", "label", "value", "counts")


def csv_rows(found: Month, shown: dict | None = None):
    """The month as CSV rows. Each table's rows say how they relate to its
    total ("once per report": they add up to it; "once per answer": to at
    least it), so a reader can check them, and an attacker gains nothing the
    suppression did not already allow for. `shown`: the published values."""

    def value(table_key, row_key, exact):
        if shown is None:
            return exact
        hidden = shown[(table_key, row_key)]
        return HIDDEN if hidden is None else hidden

    with force_locale("en"):
        yield CSV_HEADER
        yield ("received", "Reports received", "total", "Reports", value("received", "total", found.received), "")
        for table in found.tables:
            counts = "once per report" if table.once_per_report else "once per answer"
            if table.total is not None:
                yield (
                    table.key,
                    str(table.title),
                    "total",
                    str(table.total_label),
                    value(table.key, "total", table.total),
                    "",
                )
                total_of = table.key
            else:
                total_of = "received"
            for row in table.rows:
                yield (
                    table.key,
                    str(table.title),
                    row.key,
                    str(row.label),
                    value(table.key, row.key, row.count),
                    f"{counts} of {total_of}",
                )


# --- over time ---------------------------------------------------------------------


def shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def received_by_month(last: date, count: int = 12) -> list[tuple[date, int]]:
    """Reports received in each of `count` months up to `last` (one indexed count each)."""
    months = [shift(last, -n) for n in reversed(range(count))]
    return [(m, db.session.scalar(sa.select(sa.func.count()).select_from(Report).where(_in_month(m)))) for m in months]


@dataclass
class Acknowledgement:
    referrals: int  # referrals of the month's reports
    acknowledged: int
    median_hours: float | None
    within_deadline: float | None  # share of those due by now that were acknowledged in time


def acknowledgement(month_start: date) -> Acknowledgement:
    """Time to acknowledge the month's referrals, in SQL: the median by position
    (portable to SQLite), the share within the deadline by a count."""
    of_month = sa.and_(Referral.report_id == Report.id, _in_month(month_start))
    base = sa.select(Referral).join(Report, of_month)
    referrals = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    waited = (sa.extract("epoch", Referral.acknowledged_at) - sa.extract("epoch", Referral.created_at)) / 3600.0
    acknowledged = base.where(Referral.acknowledged_at.is_not(None))
    n = db.session.scalar(sa.select(sa.func.count()).select_from(acknowledged.subquery()))
    median = None
    if n:
        ordered = acknowledged.with_only_columns(waited.label("hours")).order_by(waited)
        middle = db.session.scalars(ordered.limit(2 - n % 2).offset((n - 1) // 2)).all()
        median = sum(middle) / len(middle)
    now = datetime.now(UTC)
    due = base.where(Referral.ack_due_at.is_not(None), Referral.ack_due_at <= now)
    due_count = db.session.scalar(sa.select(sa.func.count()).select_from(due.subquery()))
    in_time = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            due.where(Referral.acknowledged_at.is_not(None), Referral.acknowledged_at <= Referral.ack_due_at).subquery()
        )
    )
    return Acknowledgement(referrals, n, median, in_time / due_count if due_count else None)
