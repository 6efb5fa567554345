"""The coordinator's dashboard and downloads: exact figures for coordinators
only, charts with their tables, files as published or internal; axe-core
with JavaScript on and off."""

from __future__ import annotations

import csv
import io
import random

import pytest

from mantra.domain import levels
from mantra.models import AuditEvent, StaffRole

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .conftest import IsolatedClient
from .factories import make_partners, make_user
from .test_levels import OCTOBER, levels_sheet, october  # noqa: F401 (the month's reports)
from .test_triage import PASSWORD, _enrol


@pytest.fixture
def coordinator(app, october):  # noqa: F811
    made, _ = make_partners()
    make_user(made["victim-support"][0], "coordinator@vs.example", PASSWORD, StaffRole.COORDINATOR)
    make_user(made["victim-support"][0], "triage@vs.example", PASSWORD, StaffRole.TRIAGE)
    client = IsolatedClient(app, app.response_class)
    _enrol(client, "coordinator@vs.example")
    return client


def test_a_coordinator_sees_the_month_and_downloads_its_files(coordinator, app):
    from mantra.extensions import db

    page = coordinator.get("/levels/?month=2026-10").text
    assert '<dd class="govuk-summary-list__value" id="received">38</dd>' in page
    assert 'role="img" aria-label="Perceived motivation (Home Office monitored strands)"' in page
    assert 'id="data-strand"' in page and "Race or ethnicity" in page
    published = coordinator.get("/levels/download/2026-10.csv")
    assert published.status_code == 200 and "published" in published.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(published.text)))
    assert all(r["value"] == levels.HIDDEN or not 1 <= int(r["value"]) <= 4 for r in rows)
    internal = coordinator.get("/levels/download/2026-10.csv?internal=1")
    assert levels.HIDDEN not in internal.text and "internal" in internal.headers["Content-Disposition"]
    xlsx = coordinator.get("/levels/download/2026-10.xlsx")
    assert xlsx.data[:2] == b"PK"  # a workbook (a zip)
    assert coordinator.get("/levels/download/2026-13.csv").status_code == 404
    assert coordinator.get("/levels/download/2026-10.exe").status_code == 404
    events = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.action == "levels.downloaded")).all()
    assert len(events) == 3


def test_nobody_else_sees_the_exact_figures(coordinator, app):
    other = IsolatedClient(app, app.response_class)
    _enrol(other, "triage@vs.example")
    assert other.get("/levels/").status_code == 403
    assert other.get("/levels/download/2026-10.csv?internal=1").status_code == 403


@pytest.mark.parametrize("scripting", [True, False], ids=["js", "no-js"])
def test_the_dashboard_passes_axe(scripting, browser, live_server, app, october):  # noqa: F811
    made, _ = make_partners()
    make_user(made["victim-support"][0], "coordinator@vs.example", PASSWORD, StaffRole.COORDINATOR)
    context = browser.new_context(java_script_enabled=scripting)
    page = context.new_page()
    enrol_in_browser(page, live_server.url, "coordinator@vs.example", PASSWORD, "/levels/?month=2026-10")
    assert page.locator("#received").inner_text() == "38"
    assert_no_axe_violations(page)
    context.close()


def test_a_month_is_published_once_and_stays_as_published(coordinator, app):
    from datetime import UTC, datetime

    from mantra.domain import exports, notices
    from mantra.extensions import db
    from mantra.models import ExportRun, Notification, NotificationKind, utcnow

    first_of_november = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    ready = exports.publish_last_month(first_of_november, "default")
    db.session.commit()
    assert ready is not None and exports.publish_last_month(first_of_november, "default") is None  # once
    db.session.commit()
    kept = db.session.scalars(db.select(ExportRun).where(ExportRun.month == OCTOBER)).all()
    assert sorted(run.kind for run in kept) == ["csv", "html", "xlsx"]
    email = notices.compose(db.session.get(Notification, ready))
    assert email.to == ["coordinator@vs.example"] and "/levels/?month=2026-10" in email.body
    assert "38" not in email.body + email.subject  # no figure in the e-mail
    assert db.session.get(Notification, ready).kind == NotificationKind.LEVELS_READY

    published = coordinator.get("/levels/download/2026-10.csv").data
    # A late report for October changes the exact figures, never what was published.
    import random

    from .test_levels import _facet_only_report

    _facet_only_report(random.Random(7), datetime(2026, 10, 15, 12, 0, tzinfo=UTC), [])
    db.session.commit()
    assert coordinator.get("/levels/download/2026-10.csv").data == published
    assert b"39" in coordinator.get("/levels/download/2026-10.csv?internal=1").data
    this_month = utcnow()
    assert coordinator.get(f"/levels/download/{this_month:%Y-%m}.csv").status_code == 404  # not over yet


@pytest.fixture
def last_month(app):
    """Reports in the last whole month (Oxford time), referred and some closed
    in it: few enough that many counts are small, and must be hidden."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from mantra.domain import exports
    from mantra.extensions import db
    from mantra.models import OUTCOME_LABELS, Area, AreaKind, Referral, Report

    from .test_levels import _facet_only_report

    made, _ = make_partners()
    partners = [made["victim-support"][0].id, made["tvp-oxford"][0].id]
    month = exports.whole_month_before(datetime.now(UTC))
    start, end = levels.bounds(month)
    rng = random.Random(1126)
    areas = []
    for order, name in enumerate(["Cowley", "Jericho", "Headington", "Marston"]):
        area = Area(slug=f"ward-{name.lower()}", name=f"{name} ward", kind=AreaKind.NEIGHBOURHOOD, sort_order=order)
        db.session.add(area)
        db.session.flush()
        areas.append(area.id)
    seconds = int((end - start).total_seconds())
    for _ in range(47):
        _facet_only_report(rng, start + timedelta(seconds=rng.randrange(seconds)), areas)
    db.session.flush()
    for report in db.session.scalars(sa.select(Report).where(Report.submitted_at >= start)):
        for partner_id in rng.sample(partners, rng.choice([1, 1, 2])):
            closed = report.submitted_at + timedelta(days=rng.uniform(0.5, 9))
            done = closed < end and rng.random() < 0.6
            db.session.add(
                Referral(
                    report_id=report.id,
                    partner_id=partner_id,
                    created_at=report.submitted_at,
                    acknowledged_at=report.submitted_at + timedelta(hours=2),
                    closed_at=closed if done else None,
                    outcome=rng.choice(list(OUTCOME_LABELS)) if done else None,
                )
            )
    make_user(made["victim-support"][0], "coordinator@vs.example", PASSWORD, StaffRole.COORDINATOR)
    db.session.commit()
    return month, start, end


def test_a_coordinator_downloads_last_months_published_workbook_and_it_holds(
    browser, live_server, app, last_month, tmp_path
):
    """The issue's end to end: in a real browser, the coordinator opens the
    dashboard (last month by default), downloads the published XLSX; every
    figure shown matches a count made here in plain SQL, every small count is
    hidden, and a linear program built from the workbook alone recovers none."""
    from openpyxl import load_workbook

    from mantra.domain.suppression import RULES, Relation

    from .test_levels import counted_in_sql
    from .test_suppression import attack

    month, start, end = last_month
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    enrol_in_browser(page, live_server.url, "coordinator@vs.example", PASSWORD, "/levels/")
    assert page.get_by_role("heading", level=1).inner_text() == f"{month:%B %Y}"
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Published XLSX (small counts hidden)").click()
    download = waiting.value
    assert download.suggested_filename == f"mantra-reporting-levels-{month:%Y-%m}-published.xlsx"
    download.save_as(tmp_path / download.suggested_filename)
    book = load_workbook(tmp_path / download.suggested_filename)
    context.close()

    exact = counted_in_sql(start, end)
    # Which row of which sheet is which count: the labels, as the product words them.
    where = {("Reports received", "Reports received"): ("received", "total")}
    for table in levels.month(month).tables:
        sheet = levels_sheet(table)
        where |= {(sheet, str(row.label)): (table.key, row.key) for row in table.rows}
        if table.total is not None:
            where[(sheet, str(table.total_label))] = (table.key, "total")
    values, cells, sheets = [], {}, {}
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        for label, value in sheet.iter_rows(min_row=2, values_only=True):
            if name == "Reports received":
                label = name
            if (name, label) not in where:
                continue  # a note under the table
            key = where[(name, label)]
            true = exact[key]
            if value == levels.HIDDEN:
                values.append(None)
            else:
                assert isinstance(value, int) and value == true, (key, value, true)
                values.append(value)
            assert not 1 <= true <= 4 or value == levels.HIDDEN, key
            cells[key] = len(values) - 1
            sheets.setdefault(key[0], []).append(key)
    assert len(cells) == len(where) and values.count(None) >= 1
    # What a reader knows: sheets that count once per report add up to the reports
    # received; motivations and what happened to at least that; referrals and
    # closures to their own totals.
    relations = []
    for table, keys in sheets.items():
        parts = [cells[k] for k in keys if k[1] != "total"]
        if table in ("partner", "outcome"):
            relations.append(Relation(cells[(table, "total")], parts, exact=True))
        elif table != "received":
            multiple = table in ("strand", "local_strand", "kind")
            relations.append(Relation(cells[("received", "total")], parts, exact=not multiple))
    for cell, (low, high) in attack(values, relations, RULES["default"]).items():
        assert low <= 1 + 1e-6 and high >= 4 - 1e-6, (cell, low, high)


def test_this_month_so_far_offers_no_published_file_and_other_months_are_refused(coordinator, app):
    from datetime import UTC, datetime

    from mantra.domain import exports

    now = datetime.now(UTC)
    this_month = levels.shift(exports.whole_month_before(now), 1)
    page = coordinator.get(f"/levels/?month={this_month:%Y-%m}").text
    assert f"{this_month:%B %Y} so far" in page and "Published CSV" not in page
    assert "Internal CSV (exact)" in page
    last = coordinator.get("/levels/").text
    whole = exports.whole_month_before(now)
    assert f"/levels/download/{whole:%Y-%m}.xlsx" in last  # two digits for the month, always
    assert "Published XLSX (small counts hidden)" in last
    for outside in (f"{levels.shift(this_month, 1):%Y-%m}", "1999-12", "2026-13"):
        assert coordinator.get(f"/levels/?month={outside}").status_code == 404
