"""The partner and area pages in real headless Chromium: axe-core on each."""

from __future__ import annotations

from mantra.models import StaffRole

from .browser_support import assert_no_axe_violations, enrol_in_browser
from .factories import make_partners, make_user


def test_a_system_administrator_uses_the_partner_and_area_pages_with_no_axe_violations(page, live_server):
    made, _ = make_partners()
    make_user(made["victim-support"][0], "admin@partnership.example", "a long staff password", StaffRole.ADMIN)
    base = live_server.url
    enrol_in_browser(page, base, "admin@partnership.example", "a long staff password", "/admin/partners")

    page.get_by_role("link", name="Administration").click()
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Partners").click()
    page.wait_for_load_state("load")
    assert page.locator("#partners tbody tr").count() == 3
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Victim Support").click()
    page.wait_for_load_state("load")
    page.get_by_label("Acknowledgement deadline, in hours").fill("a day")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("load")
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.get_by_label("Acknowledgement deadline, in hours").input_value() == "a day"
    assert_no_axe_violations(page)

    page.goto(base + "/admin/areas")
    page.get_by_role("button", name="Add an area").click()
    page.wait_for_load_state("load")
    page.get_by_label("Name", exact=True).fill("Headington")
    page.get_by_label("Part of Oxford").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert page.locator("#areas tbody tr").count() == 2
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Move up Headington").click()
    page.wait_for_load_state("load")
    assert page.locator("#areas tbody tr").first.inner_text().startswith("Headington")
