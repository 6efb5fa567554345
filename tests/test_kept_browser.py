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


def test_a_warning_comes_before_the_time_limit_and_stay_on_this_page_restarts_it(page, live_server, seeded):
    from mantra.extensions import db
    from mantra.models import Draft

    base = live_server.url
    answer_in_browser(page, base)
    page.clock.install()
    page.goto(base + "/report/account")
    dialog = page.get_by_role("dialog")
    assert not dialog.is_visible()
    page.clock.fast_forward("01:54:00")
    assert not dialog.is_visible()
    page.clock.fast_forward("00:02:00")  # 4 minutes left
    assert dialog.is_visible() and "we will delete your answers at" in dialog.inner_text()
    assert_no_axe_violations(page)
    before = db.session.scalar(db.select(Draft.expires_at))
    with page.expect_response(lambda r: r.url.endswith("/keep-alive")) as kept:
        dialog.get_by_role("button", name="Stay on this page").click()
    assert kept.value.ok and kept.value.json()["seconds"] > 7000
    db.session.expire_all()
    assert db.session.scalar(db.select(Draft.expires_at)) > before
    assert not dialog.is_visible()
    page.clock.fast_forward("01:30:00")
    assert not dialog.is_visible()  # the clock started again


def test_an_expired_session_keeps_the_narrative_being_typed(page_no_js, live_server, seeded):
    """No JavaScript, no warning: the browser dropped the session (2 hours
    without a visit) while the person wrote. Continue shows what they typed."""
    page = page_no_js
    base = live_server.url
    answer_in_browser(page, base)
    page.goto(base + "/report/account")
    narrative = "They followed me off the bus and shouted at me. " * 20
    page.get_by_label("What happened, in your own words?").fill(narrative)
    page.context.clear_cookies()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert page.get_by_label("What happened, in your own words?").input_value() == narrative.strip()
    assert "this page was open for longer than that" in page.content()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Continue").click()  # kept; the earlier questions are asked again
    page.wait_for_load_state("load")
    assert page.url.endswith("/report/who") and "We kept what you just entered" in page.content()


COMBINATIONS = [(police, others) for police in ("Yes", "No") for others in ("Yes", "No")]


@pytest.mark.parametrize("police,others", COMBINATIONS)
def test_the_sharing_and_check_pages_agree_with_the_routing_rules(page, live_server, police, others):
    """Every combination of answers: the list on 'Check your answers' is the
    list the worker routes to, every partner there without a Yes says why,
    and the sharing page names who reads a report nobody else would."""
    from mantra.domain import accounts
    from mantra.extensions import db
    from mantra.jobs.route import route_report
    from mantra.models import Partner, PartnerKind, Referral, Report, RoutingRule

    made, _ = make_partners(police_rule=True)
    council, _ = accounts.create_partner("council", "Oxford City Council", PartnerKind.AGENCY, duty_email="d@c.example")
    db.session.add(
        RoutingRule(name="council", priority=2, conditions={"consent_partners": True}, partner_id=council.id)
    )
    db.session.commit()
    from mantra.domain import pins

    pins.pin([council])
    base = live_server.url
    yes_no = {"Yes": "yes", "No": "no"}
    answer_in_browser(page, base, sharing={"consent_police": yes_no[police], "consent_partners": yes_no[others]})
    page.goto(base + "/report/sharing")
    intro = page.locator("main").inner_text()
    assert "it goes to Victim Support only" in intro and "tell the police without agreement only if" in intro
    assert "a support service" not in intro
    page.goto(base + "/report/check")
    shown = page.locator("#who-will-see li strong").all_inner_texts()
    reasons = page.locator("#who-will-see li .mantra-reason").all_inner_texts()
    assert len(reasons) == len(shown) and all(reasons)
    if police == "No":
        assert "Thames Valley Police" not in shown
    if others == "No":
        assert "Oxford City Council" not in shown
    if police == others == "No":
        assert shown == ["Victim Support"] and "no other organisation receives" in reasons[0]
    page.get_by_role("button", name="Send report").click()
    page.wait_for_load_state("load")
    report = db.session.scalar(db.select(Report).order_by(Report.id.desc()))
    route_report(report.id)
    routed = db.session.scalars(
        db.select(Partner.name).join(Referral, Referral.partner_id == Partner.id).where(Referral.report_id == report.id)
    ).all()
    assert sorted(routed) == sorted(shown)


def test_contact_details_are_asked_only_under_yes_and_dropped_on_no(page, live_server, seeded):
    from .journey import ANSWERS

    base = live_server.url
    answer_in_browser(page, base, contact={"may_contact": "no"}, about=ANSWERS["about"])
    page.goto(base + "/report/contact")
    email = page.get_by_label("Email address (optional)")
    contact = page.get_by_role("group", name="Can we contact you about your report?")
    assert not email.is_visible()
    contact.get_by_label("Yes", exact=True).check()
    assert email.is_visible() and email.get_attribute("type") == "email"
    assert page.get_by_label("Phone number (optional)").get_attribute("type") == "tel"
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    summary = page.locator(".govuk-error-summary")
    assert "Enter an email address or phone number" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("() => document.activeElement.id") == "email"
    email.fill("someone@example.org")
    page.get_by_role("group", name="Can we contact you about your report?").get_by_label("No", exact=True).check()
    assert not email.is_visible()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    page.goto(base + "/report/check")
    assert "someone@example.org" not in page.content()


def test_smaller_things_a_person_meets(page, page_no_js, live_server, seeded):
    """The header link's focus is GOV.UK's (black on yellow); 'Not sure' is a
    choice of its own; Shift 3 times is offered only where it works."""
    base = live_server.url
    page.goto(base + "/")
    page.locator(".mantra-header__link").focus()
    colours = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return [s.color, s.backgroundColor]; }"
    )
    assert colours == ["rgb(11, 12, 12)", "rgb(255, 221, 0)"]
    assert page.get_by_text("or by pressing the Shift key 3 times").is_visible()
    page_no_js.goto(base + "/")
    assert not page_no_js.get_by_text("or by pressing the Shift key 3 times").is_visible()
    assert page_no_js.get_by_text("This service is not for emergencies").is_visible()

    answer_in_browser(page, base)
    page.goto(base + "/report/why")
    page.get_by_label("Race, ethnicity or nationality").check()
    page.get_by_label("Not sure").check()
    assert not page.get_by_label("Race, ethnicity or nationality").is_checked()
    assert_no_axe_violations(page)


@pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
def test_the_new_pages_pass_axe_in_english_and_polish(request, live_server, js):
    """The centre's 'no agreement' page, the sign-in page a member of the public
    meets after picking the centre option, and the privacy notice."""
    from mantra.extensions import db
    from mantra.models import StaffRole

    from .factories import make_user

    made, _ = make_partners()
    make_user(made["centre-library"][0], "centre@library.example", "library centre password", StaffRole.CENTRE)
    db.session.commit()
    page = request.getfixturevalue("page" if js else "page_no_js")
    base = live_server.url
    for lang in ("en", "pl"):
        page.goto(f"{base}/language/{lang}?next=/centre/sign-in%3Fnext%3D/report/who")
        assert page.locator(".govuk-inset-text").count() == 1
        assert_no_axe_violations(page)
        page.goto(f"{base}/privacy")
        assert_no_axe_violations(page)
    page.goto(f"{base}/language/en?next=/centre/sign-in")
    page.get_by_label("Email address").fill("centre@library.example")
    page.get_by_label("Password", exact=True).fill("library centre password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    page.goto(f"{base}/report/who?new=1")
    page.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("load")
    assert "You can only report for someone with their agreement" in page.locator("h1").inner_text()
    assert "Signed in as" in page.content()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state("load")
    assert "You have signed out" in page.content()
    assert_no_axe_violations(page)
