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

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    CHANNEL_LABELS,
    KIND_LABELS,
    MONITORED_STRANDS,
    OUTCOME_LABELS,
    REPORTER_ROLE_LABELS,
    STRAND_LABELS,
    WITHDRAWN,
    Area,
    AreaKind,
    IncidentType,
    LevelMonth,
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
    before: int | None = None  # the month before (compare())
    year_before: int | None = None  # the same month a year before


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
    ack: Acknowledgement | None = None  # time to acknowledge the month's referrals
    before: int | None = None  # reports received the month before (compare())
    year_before: int | None = None


def bounds(month: date) -> tuple[datetime, datetime]:
    """The month in Oxford's time, as UTC instants [start, end)."""
    start = datetime(month.year, month.month, 1, tzinfo=LOCAL)
    after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=LOCAL)
    return start.astimezone(UTC), after.astimezone(UTC)


def _which(column, months: list[date]):
    """(the index in `months` of the month `column` falls in, a WHERE for all of them):
    one scan counts several months, each in its own bucket."""
    inside = [sa.and_(column >= start, column < end) for start, end in map(bounds, months)]
    return sa.case(*((test, i) for i, test in enumerate(inside))), sa.or_(*inside)


def _key(value) -> str:
    """A count's key as text (JSON keeps the counts): "crime", "3", "True", "none"."""
    return "none" if value is None else str(getattr(value, "value", value))


def _per_month(query, n: int) -> list[dict]:
    """Rows of (month index, key, count) as one {key: count} per month."""
    counted = [{} for _ in range(n)]
    for i, key, count in db.session.execute(query):
        counted[i][_key(key)] = count
    return counted


def _rows(counted: dict, labels: dict) -> list[Row]:
    return [Row(_key(k), label, counted.get(_key(k), 0)) for k, label in labels.items()]


FACETS = {
    "type": Report.incident_type,
    "area": Report.area_id,
    "channel": Report.channel,
    "reporter_role": Report.reporter_role,
    "named": Report.named,
}


def _count(starts: list[date], ack: bool = True) -> list[dict]:
    """Each month's counts as {table: {key: count}}, in a handful of queries
    however many months: each query groups by month. With `ack`, the time to
    acknowledge too (the dashboard; the files do not show it)."""
    n = len(starts)
    which, inside = _which(Report.submitted_at, starts)
    counted = [{table: Counter() for table in FACETS} for _ in starts]
    # The one-answer facets in one scan, grouped by all of them at once (a few
    # thousand groups at most), then summed per facet.
    columns = list(FACETS.values())
    for i, *values, count in db.session.execute(
        sa.select(which, *columns, sa.func.count()).where(inside).group_by(which, *columns)
    ):
        for table, value in zip(FACETS, values, strict=True):
            counted[i][table][_key(value)] += count

    def each(column, target):
        query = sa.select(which, column, sa.func.count()).join(target, target.report_id == Report.id)
        return _per_month(query.where(inside).group_by(which, column), n)

    closed_in, closed_where = _which(Referral.closed_at, starts)
    closed = _per_month(
        sa.select(closed_in, Referral.outcome, sa.func.count())
        .where(closed_where, Referral.outcome.is_not(None))
        .group_by(closed_in, Referral.outcome),
        n,
    )
    for table, per_month in (
        ("strand", each(ReportStrand.strand, ReportStrand)),
        ("kind", each(ReportKind.kind, ReportKind)),
        ("partner", each(Referral.partner_id, Referral)),
        ("outcome", closed),
    ):
        for i, found in enumerate(per_month):
            counted[i][table] = found
    for i, times in enumerate(_acknowledgements(starts) if ack else [None] * n):
        counted[i]["ack"] = times
    return counted


def _labels():
    areas = db.session.execute(
        sa.select(Area.id, Area.name).order_by(Area.kind != AreaKind.NEIGHBOURHOOD, Area.sort_order)
    ).all()
    partners = db.session.execute(sa.select(Partner.id, Partner.name).order_by(Partner.name)).all()
    return areas, partners


def months(starts: list[date]) -> list[Month]:
    """The exact figures for each month (reports received in it, Oxford time),
    counted afresh (the files)."""
    labels = _labels()
    return [_month(m, counted, *labels) for m, counted in zip(starts, _count(starts, ack=False), strict=True)]


def month(month_start: date) -> Month:
    return months([month_start])[0]


def _month(start: date, counted: dict, areas, partners) -> Month:
    local = {s: STRAND_LABELS[s] for s in Strand if s not in MONITORED_STRANDS}
    strands, by_area, referred, closed = counted["strand"], counted["area"], counted["partner"], counted["outcome"]
    tables = [
        Table("type", _l("Type"), _rows(counted["type"], TYPE_WORDS), _l("Reports")),
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
        Table("kind", _l("What happened"), _rows(counted["kind"], KIND_LABELS), _l("Reports"), once_per_report=False),
        Table(
            "area",
            _l("Where"),
            [Row(str(i), name, by_area.get(str(i), 0)) for i, name in areas]
            + [Row("none", _l("Not known"), by_area.get("none", 0))],
            _l("Reports"),
        ),
        Table("channel", _l("How it was reported"), _rows(counted["channel"], CHANNEL_LABELS), _l("Reports")),
        Table(
            "reporter_role", _l("Who reported"), _rows(counted["reporter_role"], REPORTER_ROLE_LABELS), _l("Reports")
        ),
        Table(
            "named",
            _l("Named or anonymous"),
            _rows(counted["named"], {True: _l("Gave a name"), False: _l("Anonymous")}),
            _l("Reports"),
        ),
        Table(
            "partner",
            _l("Referrals, by organisation"),
            [Row(str(i), name, referred.get(str(i), 0)) for i, name in partners],
            _l("Referrals"),
            total=sum(referred.get(str(i), 0) for i, _name in partners),
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
    ack = counted["ack"] and Acknowledgement(**counted["ack"])
    return Month(start, sum(counted["type"].values()), tables, ack=ack)


# --- the dashboard's counts, kept ----------------------------------------------------
# A month that is over changes only when a late write touches it: a referral
# routed or referred on, acknowledged or closed, a report erased. Every such
# write moves the month's generation on, in its own transaction (_changed
# below); kept counts are used only while their generation is current, and
# while no referral of the month has fallen due since they were counted.
# Months not yet over are always counted afresh, and never kept.

SETTLING = timedelta(hours=1)  # a month counts as over this long after it ends: no write is in flight


def _over(month_start: date, now: datetime) -> bool:
    return bounds(month_start)[1] + SETTLING <= now


def _fresh(kept: LevelMonth | None, now: datetime) -> bool:
    if kept is None or kept.counted_generation != kept.generation or not _well_formed(kept.counts):
        return False
    next_due = kept.counts["ack"]["next_due"]
    return next_due is None or now < datetime.fromisoformat(next_due)


def _count_of(value) -> bool:
    return type(value) is int and value >= 0


def _well_formed(counts) -> bool:
    """Kept counts come from a table the web tier can write: used only if they
    are what _count makes (else they are counted again)."""
    try:
        tables = (*FACETS, "strand", "kind", "partner", "outcome")
        if not all(isinstance(k, str) and _count_of(v) for t in tables for k, v in counts[t].items()):
            return False
        ack = counts["ack"]
        return (
            _count_of(ack["referrals"])
            and _count_of(ack["acknowledged"])
            and (ack["median_hours"] is None or isinstance(ack["median_hours"], int | float))
            and (ack["within_deadline"] is None or 0 <= ack["within_deadline"] <= 1)
            and (ack["next_due"] is None or datetime.fromisoformat(ack["next_due"]).tzinfo is not None)
            and set(ack) == {"referrals", "acknowledged", "median_hours", "within_deadline", "next_due"}
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


def _upsert(values: dict, on_conflict: dict):
    insert = (sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else pg_insert)(LevelMonth)
    return insert.values(**values).on_conflict_do_update(index_elements=["month"], set_=on_conflict)


def _kept_counts(starts: list[date]) -> list[dict]:
    """Each month's counts: kept ones while fresh, the rest counted (and kept once the month is over)."""
    now = datetime.now(UTC)
    kept = {k.month: k for k in db.session.scalars(sa.select(LevelMonth).where(LevelMonth.month.in_(starts)))}
    stale = [m for m in dict.fromkeys(starts) if not _fresh(kept.get(m), now)]
    # The generation is read before counting: a write that lands while counting
    # moves it on, so what is kept now will not be used.
    generation = {m: kept[m].generation if m in kept else 0 for m in stale}
    counted = dict(zip(stale, _count(stale), strict=True)) if stale else {}
    for m, counts in counted.items():
        if _over(m, now):
            values = {"counts": counts, "counted_generation": generation[m], "counted_at": now}
            db.session.execute(_upsert({"month": m, "generation": 0, **values}, values))
    return [counted[m] if m in counted else kept[m].counts for m in starts]


def compare(month_start: date) -> Month:
    """The month, each row beside the month before and the same month a year
    before, from kept counts where they are fresh (the dashboard)."""
    starts = [month_start, shift(month_start, -1), shift(month_start, -12)]
    labels = _labels()
    found, before, year_before = (_month(m, c, *labels) for m, c in zip(starts, _kept_counts(starts), strict=True))
    found.before, found.year_before = before.received, year_before.received
    for table, then, a_year in zip(found.tables, before.tables, year_before.tables, strict=True):
        earlier, a_year_earlier = {r.key: r.count for r in then.rows}, {r.key: r.count for r in a_year.rows}
        for row in table.rows:
            row.before, row.year_before = earlier.get(row.key), a_year_earlier.get(row.key)
    return found


def _local_month(moment: datetime) -> date:
    local = moment.astimezone(LOCAL)
    return date(local.year, local.month, 1)


def _history(obj, name: str) -> list:
    """An attribute's value now and before this flush."""
    history = sa.inspect(obj).attrs[name].history
    return [v for v in (getattr(obj, name), *history.deleted) if v is not None]


@sa.event.listens_for(Session, "after_flush")
def _changed(session, _context) -> None:
    """Move on the generation of every month that is over whose counts this flush changes."""
    months, report_ids = set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Report):
            months.update(_local_month(at) for at in _history(obj, "submitted_at"))
        elif isinstance(obj, (ReportStrand, ReportKind, Referral)):
            report_ids.update(_history(obj, "report_id"))
            if isinstance(obj, Referral):
                months.update(_local_month(at) for at in _history(obj, "closed_at"))
    connection = session.connection()
    if report_ids:
        submitted = connection.execute(sa.select(Report.submitted_at).where(Report.id.in_(report_ids))).scalars()
        months.update(_local_month(at) for at in submitted)
    now = datetime.now(UTC) + SETTLING  # a month ending within the hour may be counted and kept before this commits
    for m in sorted(m for m in months if _over(m, now)):
        connection.execute(_upsert({"month": m, "generation": 1}, {"generation": LevelMonth.generation + 1}))


@sa.event.listens_for(Session, "do_orm_execute")
def _changed_in_bulk(state) -> None:
    """An UPDATE or DELETE over reports or referrals at once: no kept month can be trusted."""
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if state.bind_mapper.class_ in (Report, ReportStrand, ReportKind, Referral):
            state.session.connection().execute(sa.update(LevelMonth).values(generation=LevelMonth.generation + 1))


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
    """Reports received in each of `count` months up to `last`: the months that
    are over from their kept counts (counted and kept if need be), any other in
    one query."""
    starts = [shift(last, -n) for n in reversed(range(count))]
    over = [m for m in starts if _over(m, datetime.now(UTC))]
    received = {m: sum(c["type"].values()) for m, c in zip(over, _kept_counts(over), strict=True)}
    rest = [m for m in starts if m not in received]
    if rest:
        which, inside = _which(Report.submitted_at, rest)
        counted = dict(db.session.execute(sa.select(which, sa.func.count()).where(inside).group_by(which)).all())
        received |= {m: counted.get(i, 0) for i, m in enumerate(rest)}
    return [(m, received[m]) for m in starts]


@dataclass
class Acknowledgement:
    referrals: int  # referrals of the month's reports
    acknowledged: int
    median_hours: float | None
    within_deadline: float | None  # share of those due by now that were acknowledged in time
    next_due: str | None = None  # when the next of them falls due (the share changes then)


def _acknowledgements(starts: list[date]) -> list[dict]:
    """Time to acknowledge each month's referrals, in SQL: the counts in one
    query, the medians by position (window functions, portable to SQLite) in another."""
    now = datetime.now(UTC)
    which, inside = _which(Report.submitted_at, starts)
    referrals = sa.join(Referral, Report, Referral.report_id == Report.id)
    # A referral whose consent was withdrawn is nobody's to acknowledge: left out.
    inside = sa.and_(inside, Referral.outcome.is_distinct_from(WITHDRAWN))
    acknowledged = Referral.acknowledged_at.is_not(None)
    due = sa.and_(Referral.ack_due_at.is_not(None), Referral.ack_due_at <= now)
    counts = {
        i: row
        for i, *row in db.session.execute(
            sa.select(
                which,
                sa.func.count(),
                sa.func.count().filter(acknowledged),
                sa.func.count().filter(due),
                sa.func.count().filter(due, acknowledged, Referral.acknowledged_at <= Referral.ack_due_at),
                sa.func.min(Referral.ack_due_at).filter(Referral.ack_due_at > now),
            )
            .select_from(referrals)
            .where(inside)
            .group_by(which)
        )
    }
    waited = (sa.extract("epoch", Referral.acknowledged_at) - sa.extract("epoch", Referral.created_at)) / 3600.0
    ranked = (
        sa.select(
            which.label("month"),
            waited.label("hours"),
            sa.func.row_number().over(partition_by=which, order_by=waited).label("place"),
            sa.func.count().over(partition_by=which).label("of"),
        )
        .select_from(referrals)
        .where(inside, acknowledged)
        .subquery()
    )
    middle = sa.and_(2 * ranked.c.place >= ranked.c.of, 2 * ranked.c.place <= ranked.c.of + 2)
    medians = dict(
        db.session.execute(
            sa.select(ranked.c.month, sa.func.avg(ranked.c.hours)).where(middle).group_by(ranked.c.month)
        ).all()
    )
    found = []
    for i in range(len(starts)):
        total, n, due_count, in_time, next_due = counts.get(i, (0, 0, 0, 0, None))
        found.append(
            {
                "referrals": total,
                "acknowledged": n,
                "median_hours": None if medians.get(i) is None else float(medians[i]),
                "within_deadline": in_time / due_count if due_count else None,
                "next_due": next_due and _aware(next_due).isoformat(),
            }
        )
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone
