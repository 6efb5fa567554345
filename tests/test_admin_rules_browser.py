"""The routing rules pages in real headless Chromium: axe-core on each."""

from __future__ import annotations

import pyotp

from mantra.models import StaffRole

from .browser_support import assert_no_axe_violations
from .factories import make_partners, make_user


def test_routing_rules_pages_pass_axe(page, live_server):
    made, _ = make_partners(police_rule=True, support_rule=True)
    make_user(made["victim-support"][0], "admin@vs.example", "a long staff password", StaffRole.ADMIN)
    base = live_server.url
    page.goto(base + "/admin/rules")
    page.get_by_label("Email address").fill("admin@vs.example")
    page.get_by_label("Password", exact=True).fill("a long staff password")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    page.goto(base + "/admin/rules")

    assert page.locator("#rules tbody tr").count() == 2
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Add a rule").click()
    page.wait_for_load_state("load")
    page.get_by_label("Name", exact=True).fill("Students to support")
    page.get_by_role("button", name="Save rule").click()  # no organisation, no condition
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.get_by_label("Name", exact=True).input_value() == "Students to support"
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Back to routing rules").click()
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Preview who would see a report").click()
    page.wait_for_load_state("load")
    page.get_by_label("Religion or beliefs").check()
    page.get_by_role("group", name="Police may be told").get_by_label("Yes").check()
    page.get_by_role("button", name="Show who would see it").click()
    page.wait_for_load_state("load")
    assert page.locator("#who-will-see li").all_inner_texts() == ["Thames Valley Police"]
    assert_no_axe_violations(page)
