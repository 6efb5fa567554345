"""The staff sign-in in real headless Chromium: axe-core on every step."""

from __future__ import annotations

import pyotp

from mantra.models import StaffRole

from .browser_support import assert_no_axe_violations
from .factories import make_partners, make_user


def test_staff_sign_in_with_an_authenticator_passes_axe(page, live_server):
    from mantra.domain import accounts
    from mantra.extensions import db
    from mantra.jobs.route import route_report
    from mantra.models import Report

    from .browser_support import answer_in_browser

    made, _ = make_partners(police_rule=True)
    police, police_key = made["tvp-oxford"]
    officer = make_user(police, "officer@tvp.example", "a long staff password", StaffRole.TRIAGE)
    accounts.grant(police, police_key, officer, granted_by=None)
    db.session.commit()
    base = live_server.url
    reporter = page.context.browser.new_context().new_page()
    answer_in_browser(reporter, base)
    reporter.goto(base + "/report/check")
    reporter.get_by_role("button", name="Send report").click()
    reporter.wait_for_load_state("load")
    reporter.context.close()
    route_report(db.session.scalar(db.select(Report.id)))
    db.session.commit()
    page.goto(base + "/triage/")
    assert page.url.endswith("/triage/sign-in?next=/triage/")
    assert page.locator(".govuk-exit-this-page").count() == 0  # staff pages have no 'Exit this page'
    assert_no_axe_violations(page)
    page.get_by_label("Email address").fill("officer@tvp.example")
    page.get_by_label("Password", exact=True).fill("a long staff password")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("img", name="QR code").is_visible()
    assert_no_axe_violations(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    assert page.locator("#recovery-codes li").count() == 10
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert "Referrals to Thames Valley Police" in page.locator("h1").inner_text()
    assert_no_axe_violations(page)
    page.locator("tbody a").first.click()
    page.wait_for_load_state("load")
    assert "A man shouted abuse at me about my religion." in page.content()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("load")
    assert page.locator("#referral-status").inner_text() == "Acknowledged"
    assert_no_axe_violations(page)
    page.get_by_label("Add a note").fill("Called the reporter back.")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_load_state("load")
    assert "Called the reporter back." in page.locator(".mantra-note").inner_text()
    page.get_by_role("button", name="Ask the reporter").click()  # nothing chosen: an error, then the link to it
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-summary").is_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Your account").click()
    page.wait_for_load_state("load")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert "You have signed out" in page.content()
