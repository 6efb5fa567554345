"""Reporting levels from facets: one month's tables, counted in SQL, checked
against an independent count; the published file attacked with a linear
program built from nothing but what it says."""

from __future__ import annotations

import csv
import io
import os
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from mantra.domain import levels
from mantra.domain.suppression import RULES, Relation
from mantra.extensions import db
from mantra.models import (
    Area,
    AreaKind,
    Channel,
    IncidentKind,
    IncidentType,
    Report,
    ReporterRole,
    ReportKind,
    ReportStrand,
    Strand,
)

from .test_suppression import attack

OCTOBER = date(2026, 10, 1)


def _facet_only_report(rng, submitted_at, areas) -> dict:
    """A report row with facets only (statistics never read content)."""
    facets = {
        "incident_type": rng.choice(list(IncidentType)),
        "channel": rng.choice(list(Channel)),
        "reporter_role": rng.choice(list(ReporterRole)),
        "named": rng.random() < 0.3,
        "area_id": rng.choice(areas + [None]),
        "strands": rng.sample(list(Strand), rng.choice([1, 1, 2])),
        "kinds": rng.sample(list(IncidentKind), rng.choice([1, 2])),
    }
    report = Report(
        reference=f"HC-T{rng.randrange(10**8):08d}",
        submitted_at=submitted_at,
        lookup_token=os.urandom(32),
        receipt_kdf="test",
        reporter_public_key=b"test",
        **{k: v for k, v in facets.items() if k not in ("strands", "kinds")},
    )
    report.strands = [ReportStrand(strand=s) for s in facets["strands"]]
    report.kinds = [ReportKind(kind=k) for k in facets["kinds"]]
    db.session.add(report)
    return facets


@pytest.fixture
def october(app):
    """Reports in October 2026 (Oxford time), and a few either side of it."""
    rng = random.Random(1025)
    areas = []
    for order, name in enumerate(["Cowley", "Jericho", "Headington"]):
        area = Area(slug=f"ward-{name.lower()}", name=f"{name} ward", kind=AreaKind.NEIGHBOURHOOD, sort_order=order)
        db.session.add(area)
        db.session.flush()
        areas.append(area.id)
    inside = []
    for _ in range(37):
        moment = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(31 * 24 * 60 - 60))
        inside.append(_facet_only_report(rng, moment, areas))
    # 1 October, 00:30 in Oxford (BST) is still 30 September in UTC: October's.
    inside.append(_facet_only_report(rng, datetime(2026, 9, 30, 23, 30, tzinfo=UTC), areas))
    for moment in (datetime(2026, 9, 30, 22, 59, tzinfo=UTC), datetime(2026, 11, 1, 0, 0, tzinfo=UTC)):
        _facet_only_report(rng, moment, areas)  # September's and November's
    db.session.commit()
    return inside


def test_the_month_is_counted_from_facets_exactly(october):
    found = levels.month(OCTOBER)
    assert found.received == len(october) == 38
    tables = {t.key: {r.key: r.count for r in t.rows} for t in found.tables}
    expected = {
        "type": Counter(f["incident_type"].value for f in october),
        "channel": Counter(f["channel"].value for f in october),
        "reporter_role": Counter(f["reporter_role"].value for f in october),
        "named": Counter(str(f["named"]) for f in october),
        "kind": Counter(k.value for f in october for k in f["kinds"]),
    }
    for key, counts in expected.items():
        assert {k: v for k, v in tables[key].items() if v} == dict(counts), key
    strands = Counter(s.value for f in october for s in f["strands"])
    assert {k: v for k, v in {**tables["strand"], **tables["local_strand"]}.items() if v} == dict(strands)
    assert sum(tables["area"].values()) == 38 and tables["area"]["none"] == sum(f["area_id"] is None for f in october)
    assert sum(tables["strand"].values()) + sum(tables["local_strand"].values()) > 38  # once per strand


MONITORED = {"race", "religion", "sexual_orientation", "disability", "transgender"}  # the Home Office's five


def counted_in_sql(start: datetime, end: datetime) -> Counter:
    """{(table, row): count} for reports received in [start, end), counted
    here in plain SQL, apart from the product's own queries."""

    def rows(sql):
        return db.session.execute(sa.text(sql), {"start": start, "end": end}).all()

    inside = "r.submitted_at >= :start AND r.submitted_at < :end"
    counted = Counter({("received", "total"): rows(f"SELECT count(*) FROM report r WHERE {inside}")[0][0]})
    for table, column in (
        ("type", "incident_type"),
        ("channel", "channel"),
        ("reporter_role", "reporter_role"),
        ("named", "named"),
        ("area", "area_id"),
    ):
        for value, n in rows(f"SELECT r.{column}, count(*) FROM report r WHERE {inside} GROUP BY 1"):
            counted[(table, "none" if value is None else str(value))] = n
    for strand, n in rows(
        f"SELECT s.strand, count(*) FROM report_strand s JOIN report r ON r.id = s.report_id WHERE {inside} GROUP BY 1"
    ):
        counted[("strand" if strand in MONITORED else "local_strand", strand)] = n
    for kind, n in rows(
        f"SELECT k.kind, count(*) FROM report_kind k JOIN report r ON r.id = k.report_id WHERE {inside} GROUP BY 1"
    ):
        counted[("kind", kind)] = n
    for partner, n in rows(
        f"SELECT f.partner_id, count(*) FROM referral f JOIN report r ON r.id = f.report_id WHERE {inside} GROUP BY 1"
    ):
        counted[("partner", str(partner))] = n
        counted[("partner", "total")] += n
    closed = "f.closed_at >= :start AND f.closed_at < :end AND f.outcome IS NOT NULL"
    for outcome, n in rows(f"SELECT f.outcome, count(*) FROM referral f WHERE {closed} GROUP BY 1"):
        counted[("outcome", outcome)] = n
        counted[("outcome", "total")] += n
    return counted


def test_each_row_is_set_beside_the_month_before_and_a_year_before(october):
    rng = random.Random(926)
    areas = list(db.session.scalars(sa.select(Area.id)))
    for _ in range(9):
        _facet_only_report(rng, datetime(2026, 9, 2, tzinfo=UTC) + timedelta(hours=rng.randrange(600)), areas)
    for _ in range(6):
        _facet_only_report(rng, datetime(2025, 10, 3, tzinfo=UTC) + timedelta(hours=rng.randrange(600)), areas)
    db.session.commit()
    september = counted_in_sql(datetime(2026, 8, 31, 23, tzinfo=UTC), datetime(2026, 9, 30, 23, tzinfo=UTC))
    a_year_before = counted_in_sql(datetime(2025, 9, 30, 23, tzinfo=UTC), datetime(2025, 10, 31, 23, tzinfo=UTC))
    assert september[("received", "total")] == 10 and a_year_before[("received", "total")] == 6

    found = levels.compare(OCTOBER)
    assert (found.received, found.before, found.year_before) == (38, 10, 6)
    for table in found.tables:
        for row in table.rows:
            assert row.before == september[(table.key, row.key)], (table.key, row.key)
            assert row.year_before == a_year_before[(table.key, row.key)], (table.key, row.key)


def _cells_and_relations(rows):
    """What a reader of the published CSV knows: every value, and for each
    table whether its rows add up to its total or to at least it."""
    values, index, relations = [], {}, {}
    for row in rows:
        key = (row["table"], row["row"])
        index[key] = len(values)
        values.append(None if row["value"] == levels.HIDDEN else int(row["value"]))
    for row in rows:
        if row["row"] != "total":
            kind, _, of = row["counts"].partition(" of ")
            relations.setdefault((row["table"], of, kind), []).append(index[(row["table"], row["row"])])
    rels = [
        Relation(index[(of, "total")], parts, exact=kind == "once per report")
        for (_t, of, kind), parts in relations.items()
    ]
    return values, rels


@pytest.mark.parametrize("rule", ["default", "nhs"])
def test_the_published_file_gives_no_hidden_count_away(october, app, tmp_path, rule):
    out = tmp_path / "published.csv"
    result = app.test_cli_runner().invoke(
        args=["mantra", "export", "--month", "2026-10", "--published", "--rule", rule, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    values, relations = _cells_and_relations(rows)
    hide_up_to = RULES[rule].hide_up_to
    assert not [v for v in values if v is not None and 1 <= v <= hide_up_to]
    assert any(v is None for v in values)
    for cell, (low, high) in attack(values, relations, RULES[rule]).items():
        assert low <= 1 + 1e-6 and high >= hide_up_to - 1e-6, (rows[cell], low, high)


def test_the_internal_file_is_exact(october, app, tmp_path):
    out = tmp_path / "internal.csv"
    app.test_cli_runner().invoke(args=["mantra", "export", "--month", "2026-10", "--out", str(out)])
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert levels.HIDDEN not in {r["value"] for r in rows}
    assert next(r for r in rows if r["table"] == "received")["value"] == "38"
    bad = app.test_cli_runner().invoke(args=["mantra", "export", "--month", "October"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output


def test_the_published_workbook_has_typed_numbers_frozen_headers_and_notes(october, app, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "published.xlsx"
    result = app.test_cli_runner().invoke(
        args=["mantra", "export", "--month", "2026-10", "--format", "xlsx", "--published", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames[0] == "Notes" and "Reports received" in book.sheetnames
    assert any("shown as [c]" in (row[0] or "") for row in book["Notes"].iter_rows(values_only=True))
    csv_out = tmp_path / "published.csv"
    app.test_cli_runner().invoke(args=["mantra", "export", "--month", "2026-10", "--published", "--out", str(csv_out)])
    published = {(r["table"], r["label"]): r["value"] for r in csv.DictReader(io.StringIO(csv_out.read_text()))}
    found = levels.month(OCTOBER)
    for table in found.tables:
        sheet = book[levels_sheet(table)]
        assert sheet.freeze_panes == "A2"
        for label, value in sheet.iter_rows(min_row=2, max_row=len(table.rows) + 1, values_only=True):
            expected = published[(table.key, label)]
            assert value == (expected if expected == levels.HIDDEN else int(expected)), (table.key, label)
            assert isinstance(value, int) or value == levels.HIDDEN  # a number, typed as one


def levels_sheet(table) -> str:
    from mantra.domain.exports import sheet_title

    return sheet_title(table)


def test_the_html_file_is_a_readable_page_of_tables(october, app, tmp_path):
    out = tmp_path / "internal.html"
    app.test_cli_runner().invoke(args=["mantra", "export", "--month", "2026-10", "--format", "html", "--out", str(out)])
    page = out.read_text()
    assert "<caption>Perceived motivation (Home Office monitored strands)</caption>" in page
    assert "Race or ethnicity" in page and "October 2026" in page and "<script" not in page


def test_whole_months_counts_are_kept_until_a_late_write_changes_them(october):
    from mantra.models import LevelMonth, Referral, Report

    from .factories import make_partners

    made, _ = make_partners()
    partner = made["tvp-oxford"][0]
    first = levels.compare(OCTOBER)
    db.session.commit()
    kept = db.session.get(LevelMonth, OCTOBER)
    assert kept.counted_generation == kept.generation and sum(kept.counts["type"].values()) == 38
    # What is kept is what is shown: a change made behind the application's back is not seen...
    db.session.execute(sa.text("UPDATE report SET named = NOT named"))
    named = {t.key: t for t in levels.compare(OCTOBER).tables}["named"]
    assert [r.count for r in named.rows] == [r.count for r in {t.key: t for t in first.tables}["named"].rows]
    db.session.rollback()
    # ...but a late write through it (a referral routed after the month ended) moves the month on.
    report = db.session.scalars(
        sa.select(Report).where(Report.submitted_at >= datetime(2026, 10, 2, tzinfo=UTC))
    ).first()
    db.session.add(Referral(report_id=report.id, partner_id=partner.id))
    db.session.commit()
    db.session.refresh(kept)
    assert kept.generation == kept.counted_generation + 1
    again, before = ({t.key: t for t in m.tables}["partner"] for m in (levels.compare(OCTOBER), first))
    assert {r.key: r.count for r in again.rows}[str(partner.id)] == 1 and again.total == before.total + 1
    assert levels.received_by_month(OCTOBER, 2)[-1] == (OCTOBER, 38)
    db.session.commit()
    # Many referrals changed at once: every kept month moves on.
    db.session.execute(sa.update(Referral).values(urgent=True))
    db.session.commit()
    db.session.refresh(kept)
    assert kept.generation == kept.counted_generation + 1
    # This month is not over: never kept.
    now = datetime.now(UTC)
    levels.compare(date(now.year, now.month, 1))
    db.session.commit()
    assert db.session.get(LevelMonth, date(now.year, now.month, 1)) is None


def test_kept_counts_that_were_tampered_with_are_counted_again(october):
    from mantra.models import LevelMonth

    levels.compare(OCTOBER)
    db.session.commit()
    kept = db.session.get(LevelMonth, OCTOBER)
    forged = dict(kept.counts, type={"crime": '<svg onload="alert(1)">'})
    db.session.execute(sa.update(LevelMonth).where(LevelMonth.month == OCTOBER).values(counts=forged))
    db.session.commit()
    found = levels.compare(OCTOBER)
    assert found.received == 38 and all(type(r.count) is int for t in found.tables for r in t.rows)


def test_time_to_acknowledge_is_the_median_wait_and_the_share_in_time(october):
    from mantra.models import Referral, Report

    from .factories import make_partners

    made, _ = make_partners()
    partner = made["victim-support"][0]

    def refer(report, waited_hours):
        db.session.add(
            Referral(
                report_id=report.id,
                partner_id=partner.id,
                created_at=report.submitted_at,
                ack_due_at=report.submitted_at + timedelta(hours=24),
                acknowledged_at=None if waited_hours is None else report.submitted_at + timedelta(hours=waited_hours),
            )
        )

    reports = db.session.scalars(sa.select(Report).order_by(Report.submitted_at)).all()
    september, in_october = reports[0], [r for r in reports if r.submitted_at >= datetime(2026, 10, 1, tzinfo=UTC)]
    for report, hours in zip(in_october, [1, 3, 10, 30, None], strict=False):
        refer(report, hours)
    refer(september, 5)
    db.session.commit()
    ack = levels.compare(OCTOBER).ack
    assert (ack.referrals, ack.acknowledged) == (5, 4)
    assert ack.median_hours == pytest.approx(6.5)  # between 3 and 10
    assert ack.within_deadline == pytest.approx(3 / 5)  # 30 hours and never are late
    assert levels.compare(date(2026, 9, 1)).ack.median_hours == pytest.approx(5)
