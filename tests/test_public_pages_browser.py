"""The public pages in a real browser: accessibility, 'Exit this page', language, no third parties."""

from __future__ import annotations

import pytest

from tests.browser_support import assert_no_axe_violations, assert_no_console_errors, serve_stub

PUBLIC_PAGES = ["/", "/easy-read", "/staying-safe-online", "/privacy", "/accessibility", "/no-such-page"]
EXIT_BUTTON = ".govuk-exit-this-page__button"
# The stub names its own icon, so Chromium does not ask the (unreachable) site for one.
NEUTRAL_STUB = (
    "<!DOCTYPE html><html lang='en'><link rel='icon' href='data:,'><title>Weather</title><p>Weather</p></html>"
)


def open_page(page, live_server, path):
    response = page.goto(live_server.url + path)
    assert response.status == (404 if path == "/no-such-page" else 200)


def assert_exit_link_before_main(page):
    """'Exit this page' is an <a href="/exit"> (works with no JS), before and above the main content."""
    button = page.locator(EXIT_BUTTON)
    assert button.count() == 1
    assert button.evaluate("a => a.tagName") == "A"
    assert button.get_attribute("href") == "/exit"
    assert button.evaluate(
        "b => !!(b.compareDocumentPosition(document.getElementById('main-content')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    ), "'Exit this page' must come before the main content"
    assert button.bounding_box()["y"] < page.locator("#main-content").bounding_box()["y"]


def stub_neutral_site(page, live_server) -> str:
    url = live_server.app.config["NEUTRAL_EXIT_URL"]
    serve_stub(page, url, NEUTRAL_STUB)  # no internet here
    return url


def session_cookie(page):
    return next((c for c in page.context.cookies() if c["name"] == "__Host-mantra_session"), None)


def start_a_session(page, live_server):
    page.goto(live_server.url + "/?lang=en")  # stores the language in the session
    # Also proves Chromium keeps the Secure session cookie over http://localhost.
    assert session_cookie(page) is not None


def assert_session_gone(page):
    cookie = session_cookie(page)
    assert cookie is None or cookie["value"] == ""


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_with_js(page, console_errors, live_server, path):
    open_page(page, live_server, path)
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')"), "init.js did not run"
    assert_exit_link_before_main(page)
    assert_no_axe_violations(page)
    # Chromium logs the 404 page's own status as a console error; nothing else may be logged.
    allow = (f"status of 404 (NOT FOUND) ({live_server.url}/no-such-page)",) if path == "/no-such-page" else ()
    assert_no_console_errors(console_errors, allow=allow)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page_without_js(page_no_js, live_server, path):
    open_page(page_no_js, live_server, path)
    assert_exit_link_before_main(page_no_js)
    assert_no_axe_violations(page_no_js)


def test_exit_link_without_js_leaves_and_clears_the_session(page_no_js, live_server):
    neutral = stub_neutral_site(page_no_js, live_server)
    start_a_session(page_no_js, live_server)
    page_no_js.locator(EXIT_BUTTON).click()
    page_no_js.wait_for_url(neutral)
    assert page_no_js.url == neutral
    assert_session_gone(page_no_js)


def test_pressing_shift_three_times_exits(page, console_errors, live_server):
    neutral = stub_neutral_site(page, live_server)
    start_a_session(page, live_server)
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(neutral)
    assert page.url == neutral
    assert_session_gone(page)
    assert_no_console_errors(console_errors)


def test_language_switch_sets_html_lang(page, live_server):
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_role("link", name="Polski").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + "/"
    assert page.get_attribute("html", "lang") == "pl"


def test_start_page_loads_nothing_from_other_origins(page, console_errors, live_server):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + "/", wait_until="networkidle")
    assert any(url.endswith("/static/css/mantra.css") for url in requests), requests
    foreign = [url for url in requests if not url.startswith(live_server.url + "/")]
    assert not foreign, f"requests to other origins: {foreign}"
    assert_no_console_errors(console_errors)  # a CSP-blocked font would show here


def test_a_send_that_fails_says_nothing_was_lost_keeps_the_answers_and_passes_axe(page, live_server):
    """The intake key is unreadable at the moment of sending: the person sees a
    calm message with their answers, and the same button then sends it."""
    import re

    from tests.browser_support import answer_in_browser
    from tests.factories import make_partners
    from tests.journey import ANSWERS

    make_partners(police_rule=True)
    answer_in_browser(page, live_server.url)
    page.goto(live_server.url + "/report/check")
    config = live_server.app.config
    key_file = config["INTAKE_PUBLIC_KEY_FILE"]
    config["INTAKE_PUBLIC_KEY_FILE"] = key_file + ".missing"
    try:
        page.get_by_role("button", name="Send report").click()
        page.wait_for_load_state("load")
        assert "could not be sent just now" in page.locator(".govuk-error-summary").inner_text()
        assert page.title().startswith("Error:")
        assert ANSWERS["account"]["narrative"] in page.content()
        assert_no_axe_violations(page)
    finally:
        config["INTAKE_PUBLIC_KEY_FILE"] = key_file
    page.get_by_role("button", name="Send report").click()
    page.wait_for_load_state("load")
    assert re.search(r"\d{4}-\d{4}-\d{4}-\d{4}-\d{4}", page.locator("#receipt-code").inner_text())
