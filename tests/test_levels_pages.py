"""The coordinator's dashboard and downloads: exact figures for coordinators
only, charts with their tables, files as published or internal; axe-core
with JavaScript on and off."""

from __future__ import annotations

import csv
import io

import pytest

from mantra.domain import levels
from mantra.models import AuditEvent, StaffRole

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .conftest import IsolatedClient
from .factories import make_partners, make_user
from .test_levels import OCTOBER, october  # noqa: F401 (the month's reports)
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
