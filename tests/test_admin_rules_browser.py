"""The routing rules pages in real headless Chromium: axe-core on each."""

from __future__ import annotations

from mantra.models import StaffRole

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .factories import make_partners, make_user


def test_routing_rules_pages_pass_axe(page, live_server):
    made, _ = make_partners(police_rule=True, support_rule=True)
    make_user(made["victim-support"][0], "admin@vs.example", "a long staff password", StaffRole.ADMIN)
    base = live_server.url
    enrol_in_browser(page, base, "admin@vs.example", "a long staff password", "/admin/rules")
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
