"""The staff pages in real headless Chromium, with JavaScript on and off:
the referral page (evidence, notes, questions, reports of one incident,
referring on), a file's pictures, the account page, and the partner
administrator's members, grant and audit pages. axe-core on each."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import accounts
from mantra.extensions import db
from mantra.models import Report, StaffRole

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .conftest import IsolatedClient
from .factories import make_user
from .journey import answer_with_files, submit
from .test_casework import _pdf, _png
from .test_triage import PASSWORD, _police_officer


@pytest.mark.parametrize("scripting", [True, False], ids=["js", "no-js"])
def test_a_partner_administrator_works_a_referral_and_the_admin_pages(scripting, browser, live_server, app):
    from mantra.jobs.route import route_report

    made, police, officer = _police_officer()
    chief = make_user(police, "chief@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    accounts.grant(police, made["tvp-oxford"][1], chief, granted_by=None)
    make_user(police, "new@tvp.example", PASSWORD, StaffRole.TRIAGE)
    for who, files in (("victim", [("statement.pdf", _pdf(2)), ("shot.png", _png())]), ("witness", [])):
        reporter = IsolatedClient(app, app.response_class)
        answer_with_files(reporter, files, who={"who": who})
        submit(reporter)
    for report_id in db.session.scalars(sa.select(Report.id)):
        route_report(report_id)
    db.session.commit()

    context = browser.new_context(java_script_enabled=scripting)
    page = context.new_page()
    base = live_server.url
    enrol_in_browser(page, base, "chief@tvp.example", PASSWORD)
    assert_no_axe_violations(page)  # the inbox
    page.locator("tbody a").first.click()
    page.wait_for_load_state("load")
    assert page.locator("#evidence-files li").count() == 2 and page.locator("#likely-reports").is_visible()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="View statement.pdf").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("img", name="Page 2 of 2 of statement.pdf").is_visible()
    assert_no_axe_violations(page)
    page.go_back()
    page.wait_for_load_state("load")

    page.locator("#likely-reports").get_by_role("button").first.click()
    page.wait_for_load_state("load")
    assert page.locator("#linked-reports").is_visible()
    page.get_by_label("Add a note").fill("Spoke to the beat team.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state("load")
    page.get_by_label("Refer to").select_option(label="Victim Support")
    page.get_by_role("button", name="Refer on").click()
    page.wait_for_load_state("load")
    assert "The report has been referred on." in page.content()
    assert_no_axe_violations(page)

    for name in ("Your account", "Administration"):
        page.get_by_role("link", name=name, exact=True).click()
        page.wait_for_load_state("load")
        assert_no_axe_violations(page)
    page.get_by_role("link", name="Your organisation’s members").click()
    page.wait_for_load_state("load")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Give access Staff Member").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Give access").click()  # the fingerprint not confirmed
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-summary").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("They read out the same fingerprint").check()
    page.get_by_role("button", name="Give access").click()
    page.wait_for_load_state("load")
    assert "can now open your organisation’s reports" in page.content()
    page.goto(base + "/admin/audit")
    assert page.locator("#audit-events tbody tr").count() > 5
    assert_no_axe_violations(page)

    page.goto(base + "/admin/replies")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Add a reply template").click()
    page.wait_for_load_state("load")
    page.get_by_label("Name").fill("First contact")
    page.get_by_role("button", name="Save template").click()  # no message yet: kept, with the error
    page.wait_for_load_state("load")
    assert page.get_by_label("Name").input_value() == "First contact"
    assert_no_axe_violations(page)
    page.get_by_label("Message").fill("Thank you for telling us. We will call you soon.")
    page.get_by_role("button", name="Save template").click()
    page.wait_for_load_state("load")
    assert page.locator("#reply-templates").is_visible()
    assert_no_axe_violations(page)
    context.close()


@pytest.mark.parametrize("scripting", [True, False], ids=["js", "no-js"])
def test_a_system_administrator_adds_and_resets_an_account(scripting, browser, live_server, app):
    made, police, officer = _police_officer()
    make_user(made["victim-support"][0], "root@vs.example", PASSWORD, StaffRole.ADMIN)
    context = browser.new_context(java_script_enabled=scripting)
    page = context.new_page()
    base = live_server.url
    enrol_in_browser(page, base, "root@vs.example", PASSWORD, "/admin/users")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Add a user").click()
    page.wait_for_load_state("load")
    page.get_by_label("Full name").fill("Kim Lee")
    page.get_by_role("button", name="Save").click()  # no email, no organisation, no role
    page.wait_for_load_state("load")
    assert (
        page.locator(".govuk-error-summary").is_visible() and page.get_by_label("Full name").input_value() == "Kim Lee"
    )
    assert_no_axe_violations(page)
    page.get_by_label("Email address").fill("kim@tvp.example")
    page.get_by_label("Organisation").select_option(label="Thames Valley Police")
    page.get_by_label("Triage officer").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert page.locator("#one-time-password").is_visible()
    assert_no_axe_violations(page)
    page.goto(base + f"/admin/users/{officer.id}/reset")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Reset the account").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Account reset").is_visible()
    context.close()
