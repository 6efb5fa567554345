"""Nothing lost, nothing misread: the public journey as people really use it,
in real headless Chromium (a phone's width, text at 200%, keyboard only,
JavaScript off, Polish)."""

from __future__ import annotations

import pytest

from .browser_support import answer_in_browser, assert_no_axe_violations
from .factories import make_partners


@pytest.fixture
def seeded(app):
    return make_partners(police_rule=True)[0]


def _send(page, base: str, **overrides) -> str:
    answer_in_browser(page, base, **overrides)
    page.goto(base + "/report/check")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_load_state("load")
    return page.locator("#receipt-code").inner_text()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_switching_language_or_reading_the_privacy_notice_after_sending_keeps_the_receipt_code(
    request, live_server, seeded, js
):
    page = request.getfixturevalue("page" if js else "page_no_js")
    base = live_server.url
    code = _send(page, base)
    page.get_by_role("link", name="Polski").click()
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.locator("#receipt-code").inner_text() == code
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Prywatność").click()
    page.go_back()
    page.reload()  # a refresh asks nothing and loses nothing: the page is a plain GET
    assert page.locator("#receipt-code").inner_text() == code
    page.locator(".mantra-header__link").click()  # the start page offers the code again
    page.locator(".govuk-notification-banner a").click()
    assert page.locator("#receipt-code").inner_text() == code
    page.get_by_role("button", name="Wydrukuj kod potwierdzenia").click()
    assert page.locator("#receipt-code").inner_text() == code
    assert_no_axe_violations(page)
    page.go_back()
    page.get_by_role("button", name="Zapisałem lub zapisałam swój kod potwierdzenia").click()
    page.wait_for_load_state("load")
    assert page.locator("#receipt-code").count() == 0
    page.goto(base + "/report/sent")
    assert page.locator("#receipt-code").count() == 0


GROUPS_FIT = """() => {
  const code = document.getElementById('receipt-code');
  const groups = [...code.querySelectorAll('.mantra-receipt-code__group')];
  return {
    pageScrollsSideways: document.documentElement.scrollWidth > window.innerWidth,
    codeOverflows: code.scrollWidth > code.clientWidth,
    groupsSplit: groups.filter(g => g.getClientRects().length !== 1).length,
    groupsCut: groups.filter(g => g.getBoundingClientRect().right > window.innerWidth).length,
    lines: new Set(groups.map(g => Math.round(g.getBoundingClientRect().top))).size,
    text: code.innerText,
  };
}"""


@pytest.mark.parametrize("width", [320, 375])
def test_the_receipt_code_fits_a_phone_at_200_percent_text_breaking_only_between_groups(
    browser, live_server, seeded, width
):
    context = browser.new_context(viewport={"width": width, "height": 640})
    page = context.new_page()
    try:
        code = _send(page, live_server.url)
        page.evaluate("() => { document.documentElement.style.fontSize = '200%' }")  # text-only zoom
        fit = page.evaluate(GROUPS_FIT)
        assert fit["text"].replace("\n", "") == code
        assert not fit["pageScrollsSideways"] and not fit["codeOverflows"]
        assert fit["groupsSplit"] == 0 and fit["groupsCut"] == 0
        assert fit["lines"] > 1  # it did have to wrap, and wrapped between groups
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_enter_on_the_people_page_removes_nobody_and_a_removal_is_confirmed(request, live_server, seeded, js):
    page = request.getfixturevalue("page" if js else "page_no_js")
    base = live_server.url
    answer_in_browser(page, base)
    page.goto(base + "/report/people")
    page.get_by_label("Someone responsible").check()
    page.get_by_label("Describe them").fill("Tall man, red jacket")
    page.get_by_role("button", name="Add this person").click()
    page.wait_for_load_state("load")
    page.get_by_label("A witness").check()
    page.get_by_label("Describe them").fill("A shop owner")
    page.get_by_label("A witness").press("Enter")  # Enter in a field: the form's default button
    page.wait_for_load_state("load")
    content = page.content()
    assert "Tall man, red jacket" in content and "A shop owner" in content
    page.get_by_role("link", name="Remove person 1").click()
    assert "Are you sure you want to remove person 1?" in page.locator("h1").inner_text()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="No, keep it").click()
    assert "Tall man, red jacket" in page.content()
    page.get_by_role("link", name="Remove person 1").click()
    page.get_by_role("button", name="Yes, remove it").click()
    page.wait_for_load_state("load")
    assert "Person 1 (Someone responsible) has been removed." in page.content()
    assert "Tall man, red jacket" not in page.content() and "A shop owner" in page.content()
    assert_no_axe_violations(page)
