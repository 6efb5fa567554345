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
    from mantra.domain.exports import _sheet_title

    return _sheet_title(str(table.title))


def test_the_html_file_is_a_readable_page_of_tables(october, app, tmp_path):
    out = tmp_path / "internal.html"
    app.test_cli_runner().invoke(args=["mantra", "export", "--month", "2026-10", "--format", "html", "--out", str(out)])
    page = out.read_text()
    assert "<caption>Perceived motivation (Home Office monitored strands)</caption>" in page
    assert "Race or ethnicity" in page and "October 2026" in page and "<script" not in page
