"""The reporter stays in control, in real headless Chromium (JavaScript on in
English, off in Polish): they read what the police did on their timeline,
stop sharing with the police after a warning, and the police's own keys open
nothing after; they stop the news e-mails. A reporting centre does the same
for someone. axe-core on every page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import accounts, casework
from mantra.extensions import db
from mantra.models import Report

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .conftest import IsolatedClient
from .test_casework import _one_report, _police_referral
from .test_centre import PASSWORD as CENTRE_PASSWORD
from .test_consent import NARRATIVE, _referral, _supporter, _wraps, centre_report
from .test_triage import PASSWORD, _police_officer

POLICE_SAYS = "We would like to talk to you about what happened. POLICEWORDS"


def _go(page, locator) -> None:
    locator.click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("scripting, lang", [(True, "en"), (False, "pl")], ids=["js-en", "no-js-pl"])
def test_the_reporter_reads_the_timeline_then_stops_sharing_with_the_police(scripting, lang, browser, live_server, app):
    made, police, officer = _police_officer(support_rule=True)
    support, supporter = _supporter(made)
    _reporter, code = _one_report(app, contact={"may_contact": "no", "news": "yes", "news_email": "n@example.org"})
    referral = _police_referral(police)
    officer_key = accounts.unlock_user_key(officer, PASSWORD)
    casework.acknowledge(officer, referral)  # the police act, as their referral page does
    casework.message_reporter(officer, casework.open_referral(officer, officer_key, referral), referral, POLICE_SAYS)
    db.session.commit()

    context = browser.new_context(java_script_enabled=scripting)
    page = context.new_page()
    base = live_server.url
    page.goto(f"{base}/language/{lang}?next=/follow-up/")
    assert page.locator("html").get_attribute("lang") == lang
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")
    page.wait_for_load_state("load")
    steps = page.locator("#timeline li")
    assert steps.count() == 5  # received, passed to each, acknowledged, a message
    timeline = page.locator("#timeline").inner_text()
    assert "Thames Valley Police" in timeline and "Victim Support" in timeline
    assert "POLICEWORDS" not in timeline and "POLICEWORDS" in page.content()  # the words are in the thread only
    assert_no_axe_violations(page)

    _go(page, page.locator(f'#report-holders a[href$="/sharing/{police.id}"]'))
    assert page.locator(".govuk-warning-text").is_visible()  # a crime: what withdrawing means, first
    assert_no_axe_violations(page)
    _go(page, page.locator("button.govuk-button--warning"))
    assert page.locator("#withdrawn-title").is_visible()
    assert page.locator(f'#report-holders a[href$="/sharing/{police.id}"]').count() == 0
    assert page.locator("#timeline li").count() == 6
    assert_no_axe_violations(page)
    _go(page, page.locator("#stop-news button"))
    assert page.locator("#news-stopped-title").is_visible()
    assert_no_axe_violations(page)
    context.close()

    db.session.expire_all()
    report = db.session.scalar(sa.select(Report))
    assert _wraps(report.id) == {support.id} and report.notify_wrap is None
    with pytest.raises(casework.CaseworkError):  # the officer's keys: nothing opens now
        casework.open_referral(officer, officer_key, _referral(police))
    opened = casework.open_referral(supporter, accounts.unlock_user_key(supporter, PASSWORD), _referral(support))
    assert opened.content("account")["narrative"] == NARRATIVE

    staff = browser.new_context(java_script_enabled=scripting)
    page = staff.new_page()
    enrol_in_browser(page, base, "officer@tvp.example", PASSWORD, start=f"/triage/referrals/{referral.id}")
    assert "withdrew their consent" in page.content() and NARRATIVE not in page.content()
    assert_no_axe_violations(page)
    staff.close()


def test_a_centre_changes_who_can_see_a_report_for_the_person(page, live_server, app):
    _centre, _user, report, support = centre_report(app, IsolatedClient(app, app.response_class))

    base = live_server.url
    page.goto(base + "/centre/sign-in")
    page.get_by_label("Email address").fill("fatima@library.example")
    page.get_by_label("Password", exact=True).fill(CENTRE_PASSWORD)
    _go(page, page.get_by_role("button", name="Sign in"))
    _go(page, page.get_by_role("link", name=f"Who can see it ({report.reference})"))
    assert_no_axe_violations(page)
    _go(page, page.get_by_role("link", name="Stop sharing with Victim Support"))
    assert_no_axe_violations(page)
    _go(page, page.get_by_role("button", name="Stop sharing with Victim Support"))
    assert page.locator("#withdrawn-title").is_visible() and "they cannot open the report" in page.content()
    _go(page, page.get_by_role("link", name="Do not pass this report to any more organisations"))
    assert_no_axe_violations(page)
    _go(page, page.get_by_role("button", name="Do not pass it on"))
    assert "This report will not be passed to any more organisations." in page.content()
    assert_no_axe_violations(page)
    db.session.expire_all()
    assert support.id not in _wraps(report.id)
