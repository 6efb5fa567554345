"""Browser fixtures: a live server, headless Chromium (Playwright) and axe-core.

Fixtures: live_server, browser (session), page (JS on), page_no_js (JS off),
console_errors (what `page` logged). Helpers: assert_no_axe_violations(page),
assert_no_console_errors(errors, allow=()), serve_stub(page, url, html).
"""

from __future__ import annotations

import base64
import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture
def live_server(app):
    """The `app` fixture's app (PostgreSQL, Redis) served over HTTP in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval so shutdown() returns quickly at teardown.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    # `localhost`, not 127.0.0.1: the session cookie is Secure, and Chromium only
    # accepts Secure cookies over plain http on localhost (a "potentially
    # trustworthy" origin). The exit tests check the cookie really is kept.
    yield LiveServer(url=f"http://localhost:{server.server_port}", app=app)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    # Imported here so the rest of the suite runs where Playwright is missing.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Debian's Chromium; never `playwright install` (no network here).
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _watch(page) -> list[str]:
    """Collect JS errors and console errors; Chromium reports CSP violations as console errors."""
    errors: list[str] = []

    def on_console(msg):
        if msg.type == "error":
            errors.append(f"console error: {msg.text} ({msg.location.get('url') or ''})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


# No bypass_csp on purpose: the pages must work under the real Content-Security-
# Policy, and a bypassed CSP would hide the violations console_errors looks for.
# axe is injected with page.evaluate, which CSP does not block (see below).
@pytest.fixture
def _page_and_errors(browser):
    context = browser.new_context()
    page = context.new_page()
    errors = _watch(page)
    yield page, errors
    context.close()


@pytest.fixture
def page(_page_and_errors):
    """A fresh JavaScript-enabled page (own context, so own cookies) per test."""
    return _page_and_errors[0]


@pytest.fixture
def console_errors(_page_and_errors) -> list[str]:
    """Console errors, CSP violations and uncaught exceptions `page` has logged so far."""
    return _page_and_errors[1]


@pytest.fixture
def page_no_js(browser):
    """A fresh page with JavaScript disabled, as some people browse."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


def answer_in_browser(page, base: str, **overrides) -> None:
    """Answer every question through the page's own cookie jar (quicker than
    clicking); overrides replace a step's answers, as in journey.answer_all."""
    from urllib.parse import urlencode

    from .journey import ANSWERS, CSRF

    for step, answers in ANSWERS.items():
        token = CSRF.search(page.request.get(f"{base}/report/{step}").text()).group(1)
        response = page.request.post(
            f"{base}/report/{step}",
            data=urlencode({**overrides.get(step, answers), "csrf_token": token}, doseq=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            max_redirects=0,
        )
        assert response.status == 302, (step, response.status)


def assert_no_console_errors(errors: list[str], allow: tuple[str, ...] = ()) -> None:
    """Fail on logged JS errors / CSP violations, except those containing an `allow` text."""
    left = [e for e in errors if not any(a in e for a in allow)]
    assert not left, "The page logged errors:\n" + "\n".join(left)


def serve_stub(page, url: str, html: str = "<!DOCTYPE html><link rel='icon' href='data:,'><title>Stub</title>") -> None:
    """Answer requests for `url` in this page with `html` (there is no internet here).

    Not page.route: Playwright never calls route handlers for the request a
    redirect leads to, and the exit is a redirect (/exit -> NEUTRAL_EXIT_URL).
    Chromium's own Fetch domain does see redirected requests.
    """
    cdp = page.context.new_cdp_session(page)
    cdp.on(
        "Fetch.requestPaused",
        lambda event: cdp.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": 200,
                "responseHeaders": [{"name": "Content-Type", "value": "text/html; charset=utf-8"}],
                "body": base64.b64encode(html.encode()).decode(),
            },
        ),
    )
    cdp.send("Fetch.enable", {"patterns": [{"urlPattern": url, "requestStage": "Request"}]})


@functools.cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


_SCRIPTING_ENABLED = """() => {
  // A listener added from here only runs when the page may run script.
  let ran = false;
  const probe = () => { ran = true; };
  document.addEventListener('mantra-probe', probe);
  document.dispatchEvent(new Event('mantra-probe'));
  document.removeEventListener('mantra-probe', probe);
  return ran;
}"""
_RUN_AXE = """async ([tags, scripting]) => {
  const realSetTimeout = window.setTimeout;
  if (!scripting) {
    // With JavaScript disabled Chromium never fires timers, and axe.run waits
    // on setTimeout(fn, 0) between rules, so it would hang. Run zero-delay
    // timers as microtasks (which do run); delayed ones are only axe's
    // give-up guards (frames, preload) and are dropped.
    window.setTimeout = (fn, ms, ...args) => {
      if (!ms || ms <= 1) Promise.resolve().then(() => fn(...args));
      return 0;
    };
  }
  try {
    const result = await axe.run(document, {
      resultTypes: ['violations'],
      runOnly: {type: 'tag', values: tags},
    });
    return result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
      count: v.nodes.length,
    }));
  } finally {
    window.setTimeout = realSetTimeout;
  }
}"""


def assert_no_axe_violations(page) -> None:
    """Run axe-core (WCAG 2.2 A/AA and best practice) on the page as it is now.

    axe goes in with page.evaluate, not add_script_tag: a <script> tag with
    inline content is refused by the CSP (script-src 'self') and never runs
    with JavaScript off, while page.evaluate runs in the page's own JS world
    in both cases (CDP evaluation is not subject to CSP or to the JS switch).
    So axe checks the very DOM and styles a visitor gets, JS on or off, with
    the real CSP in force and without bypass_csp.
    """
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(_axe_source())
    scripting = page.evaluate(_SCRIPTING_ENABLED)
    violations = page.evaluate(_RUN_AXE, [AXE_TAGS, scripting])
    lines = [
        f"- {v['id']} ({v['impact']}): {v['help']} [{v['count']} element(s)] e.g. {', '.join(v['targets'])}"
        for v in violations
    ]
    assert not violations, f"axe found accessibility problems on {page.url}:\n" + "\n".join(lines)


def enrol_in_browser(page, base: str, email: str, password: str, start: str = "/triage/") -> str:
    """A member's first sign-in in the browser: password, then an authenticator
    (pyotp reads the key the page shows), then past the recovery codes to the
    page asked for. Returns the authenticator's secret."""
    import pyotp

    page.goto(base + start)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Security code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Continue").click()  # past the recovery codes
    page.wait_for_load_state("load")
    return secret
