"""Evidence fingerprints in real headless Chromium: the reporter reads them on
the confirmation page (axe-core, JavaScript on and off), the officer reads the
same ones on the referral page."""

from __future__ import annotations

import hashlib

from mantra.extensions import db
from mantra.jobs.route import route_report
from mantra.models import Report

from .browser_support import answer_in_browser, assert_no_axe_violations, enrol_in_browser
from .test_evidence import _photo_with_text
from .test_triage import PASSWORD, _police_officer


def test_the_reporter_and_the_officer_read_the_same_fingerprints(page, page_no_js, live_server):
    _police_officer()
    base = live_server.url
    photo = _photo_with_text("teal")
    answer_in_browser(page, base)
    page.goto(base + "/report/evidence")
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "screenshot.png", "mimeType": "image/png", "buffer": photo}]
    )
    page.get_by_role("button", name="Upload this file").click()
    page.wait_for_load_state("load")
    page.goto(base + "/report/check")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_load_state("load")
    shown = page.locator("#fingerprints ~ dl code").all_inner_texts()
    assert shown[0] == hashlib.sha256(photo).hexdigest() and len(shown) == 2 and shown[0] != shown[1]
    assert "screenshot.png" in page.locator("#fingerprints ~ dl").inner_text()
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 320, "height": 640})  # a small phone: the codes wrap, nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page_no_js.context.add_cookies(page.context.cookies())  # the same browser session, JavaScript off
    page_no_js.goto(base + "/report/sent")
    assert page_no_js.locator("#fingerprints ~ dl code").all_inner_texts() == shown
    assert_no_axe_violations(page_no_js)

    route_report(db.session.scalar(db.select(Report.id)))
    db.session.commit()
    officer = page.context.browser.new_context().new_page()
    enrol_in_browser(officer, base, "officer@tvp.example", PASSWORD)
    officer.locator("tbody a").first.click()
    officer.wait_for_load_state("load")
    assert officer.locator("#evidence-files code").all_inner_texts() == shown
    officer.context.close()
