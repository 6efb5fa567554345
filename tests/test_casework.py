"""A partner's casework beyond reading: sealed notes only their own
organisation can read, asking the reporter for more, and referring on to
another organisation within what the person agreed to."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import accounts, casework
from mantra.extensions import db
from mantra.models import (
    Attachment,
    AuditEvent,
    Note,
    PartnerKind,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    StaffRole,
)

from .conftest import IsolatedClient
from .factories import make_user
from .journey import answer_all, answer_with_files, csrf, errors, post, submit
from .test_triage import PASSWORD, _enrol, _police_officer


def _one_report(app, **answers):
    """A report from the public (police consent given), routed; returns its receipt code."""
    from mantra.jobs.route import route_report

    reporter = IsolatedClient(app, app.response_class)
    answer_all(reporter, **answers)
    _, _, code = submit(reporter)
    route_report(db.session.scalar(sa.select(Report.id)))
    db.session.commit()
    return reporter, code


def _police_referral(police) -> Referral:
    return db.session.scalar(sa.select(Referral).where(Referral.partner_id == police.id))


def _officer_on_a_referral(client, app):
    """A report routed to the police, and their officer signed in on its page:
    (the reporter's client, their receipt code, the referral, its link, the page)."""
    _made, police, _officer = _police_officer()
    reporter, code = _one_report(app)
    referral = _police_referral(police)
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    return reporter, code, referral, link, client.get(link).text


def test_a_note_is_sealed_for_the_partner_alone(client, app):
    made, police, officer = _police_officer()
    _one_report(app)
    referral = _police_referral(police)
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    empty = client.post(f"{link}/note", data={"csrf_token": csrf(page), "note": " "})
    assert empty.status_code == 200 and "Enter your note" in errors(empty.text)
    added = client.post(
        f"{link}/note", data={"csrf_token": csrf(page), "note": "Spoke to PC Ahmed NOTEMARK."}, follow_redirects=True
    )
    assert "Only your organisation can read it." in added.text and "Spoke to PC Ahmed NOTEMARK." in added.text

    note = db.session.scalar(sa.select(Note))
    assert b"NOTEMARK" not in note.sealed_body
    # The report's data key alone (which every partner holding the report has) does not open it.
    opened = casework.open_referral(officer, accounts.unlock_user_key(officer, PASSWORD), referral)
    with pytest.raises(vault.VaultError):
        vault.open_sealed(opened.data_key, note.sealed_body, table="note", row_id=f"{note.id}", field="body")
    # Moved to another row, it does not open: shown as such, never as if genuine.
    db.session.add(Note(referral_id=referral.id, author_id=officer.id, sealed_body=note.sealed_body))
    db.session.commit()
    assert "This note could not be opened." in client.get(link).text
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.report_id == referral.report_id)).all()
    assert "referral.note_added" in actions


def test_asking_for_more_information_reaches_the_reporter(client, app):
    reporter, code, referral, link, page = _officer_on_a_referral(client, app)
    nothing = client.post(f"{link}/ask", data={"csrf_token": csrf(page), "extra": ""})
    assert nothing.status_code == 200 and "Select a question or write one" in errors(nothing.text)
    typed = client.post(f"{link}/ask", data={"csrf_token": csrf(page), "questions": "bogus", "extra": "Kept text"})
    assert errors(typed.text) and "Kept text" in typed.text
    asked = client.post(
        f"{link}/ask",
        data={"csrf_token": csrf(page), "questions": ["when", "evidence"], "extra": "Which bus route was it?"},
        follow_redirects=True,
    )
    assert "Your questions have been sent." in asked.text and "Asked for more information" in asked.text

    post(reporter, "/follow-up/", {"code": code})
    seen = reporter.get("/follow-up/report").text
    assert "They have asked you for more information" in seen
    assert "When did it happen?" in seen and "screenshots" in seen and "Which bus route was it?" in seen
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == ReferralStatus.IN_PROGRESS


def test_referring_on_wraps_the_key_to_a_partner_the_person_agreed_to(client, app):
    made, police, officer = _police_officer()
    support, support_key = made["victim-support"]
    reporter, code = _one_report(app)
    referral = _police_referral(police)
    assert db.session.scalar(sa.select(Referral).where(Referral.partner_id == support.id)) is None
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    assert "Victim Support" in page  # in the list: the person agreed to share with other organisations
    bad = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(police.id)})
    assert bad.status_code == 200 and "Select an organisation from the list" in errors(bad.text)
    done = client.post(
        f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(support.id)}, follow_redirects=True
    )
    assert "The report has been referred on." in done.text and "Referred on" in done.text

    received = db.session.scalar(sa.select(Referral).where(Referral.partner_id == support.id))
    assert received.status == ReferralStatus.NEW and received.ack_due_at is not None
    supporter = make_user(support, "vs@vs.example", PASSWORD, StaffRole.TRIAGE)
    accounts.grant(support, support_key, supporter, granted_by=None)
    db.session.commit()
    opened = casework.open_referral(supporter, accounts.unlock_user_key(supporter, PASSWORD), received)
    assert "religion" in opened.content("account")["narrative"]
    assert db.session.get(Referral, referral.id).status == ReferralStatus.REFERRED_ON
    post(reporter, "/follow-up/", {"code": code})  # the reporter sees who has their report now
    holders = reporter.get("/follow-up/report").text.split('id="report-holders"')[1].split("</dl>")[0]
    assert holders.index("Thames Valley Police") < holders.index("Victim Support")
    again = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(support.id)})
    assert "Select an organisation from the list" in errors(again.text)  # they hold it now


def test_referring_on_respects_consent_and_pinned_keys(client, app):
    made, police, officer = _police_officer()
    support = made["victim-support"][0]
    council, _ = accounts.create_partner("council", "City Council", PartnerKind.AGENCY)  # its key never pinned
    db.session.commit()
    _one_report(app, sharing={"consent_police": "yes", "consent_partners": "no"})
    referral = _police_referral(police)
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    assert "The reporter did not agree to share it with: City Council, Victim Support." in page
    refused = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(support.id)})
    assert "Select an organisation from the list" in errors(refused.text)
    # A database writer sets the facet; the person's own sealed answer still says no.
    db.session.execute(sa.update(Report).values(consent_partners=True))
    db.session.commit()
    refused = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(support.id)})
    assert "Select an organisation from the list" in errors(refused.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


def test_a_partner_whose_key_is_not_pinned_gets_nothing(client, app):
    made, police, officer = _police_officer()
    council, _ = accounts.create_partner("council", "City Council", PartnerKind.AGENCY)
    db.session.commit()
    _one_report(app)
    referral = _police_referral(police)
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    refused = client.post(f"{link}/refer", data={"csrf_token": csrf(page), "partner": str(council.id)})
    assert any("has not been confirmed by an administrator" in e for e in errors(refused.text))
    wraps = db.session.scalar(
        sa.select(sa.func.count()).select_from(ReportKey).where(ReportKey.partner_id == council.id)
    )
    assert wraps == 0 and db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1


def _pdf(pages: int) -> bytes:
    from PIL import Image

    colours = ["red", "green", "blue", "yellow"]
    images = [Image.new("RGB", (300, 400), colours[i % 4]) for i in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "purple").save(out, "PNG")
    return out.getvalue()


def test_evidence_is_previewed_as_pictures_and_downloaded_only_as_a_file(client, app):
    from mantra.jobs.route import route_report

    made, police, officer = _police_officer()
    reporter = IsolatedClient(app, app.response_class)
    answer_with_files(reporter, [("statement.pdf", _pdf(3)), ("shot.png", _png())])
    submit(reporter)
    route_report(db.session.scalar(sa.select(Report.id)))
    db.session.commit()
    referral = _police_referral(police)
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    assert "statement.pdf" in page and "shot.png" in page
    pdf_id, png_id = db.session.scalars(sa.select(Attachment.id).order_by(Attachment.id)).all()

    shown = client.get(f"{link}/files/{pdf_id}")
    assert shown.status_code == 200
    assert shown.text.count('src="data:image/png;base64,') == 3 and "Page 3 of 3 of statement.pdf" in shown.text
    assert not any(tag in shown.text for tag in ("<iframe", "<embed", "<object"))  # never the file itself
    image = client.get(f"{link}/files/{png_id}")
    assert image.text.count('src="data:image/png;base64,') == 1

    got = client.get(f"{link}/files/{pdf_id}/download")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    assert (
        got.headers["Content-Disposition"].startswith("attachment;")
        and "statement.pdf" in got.headers["Content-Disposition"]
    )
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"].startswith("sandbox")
    assert got.headers["Cache-Control"] == "no-store"

    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.report_id == referral.report_id)).all()
    assert actions.count("attachment.previewed") == 2 and actions.count("attachment.downloaded") == 1
    assert client.get(f"{link}/files/999999").status_code == 404
    assert client.get(f"{link}/files/999999/download").status_code == 404


def test_a_file_moved_from_another_report_does_not_open(client, app):
    from mantra.jobs.route import route_report

    made, police, officer = _police_officer()
    for name in ("first.png", "second.png"):
        reporter = IsolatedClient(app, app.response_class)
        answer_with_files(reporter, [(name, _png())])
        submit(reporter)
    for report_id in db.session.scalars(sa.select(Report.id)):
        route_report(report_id)
    db.session.commit()
    first, second = db.session.scalars(sa.select(Referral).order_by(Referral.report_id)).all()
    theirs = db.session.scalar(sa.select(Attachment).where(Attachment.report_id == second.report_id))
    _enrol(client)
    # Another report's file, asked for through this referral: not found.
    assert client.get(f"/triage/referrals/{first.id}/files/{theirs.id}/download").status_code == 404
    # A database writer moves it onto this report: it will not open.
    theirs.report_id = first.report_id
    db.session.commit()
    page = client.get(f"/triage/referrals/{first.id}").text
    assert "This file could not be opened." in page and "second.png" not in page
    assert client.get(f"/triage/referrals/{first.id}/files/{theirs.id}/download").status_code == 404


def test_reports_of_one_incident_are_offered_linked_and_unlinked(client, app):
    from mantra.jobs.route import route_report

    made, police, officer = _police_officer()
    for who in ("victim", "witness"):
        reporter = IsolatedClient(app, app.response_class)
        answer_all(reporter, who={"who": who})
        submit(reporter)
    for report_id in db.session.scalars(sa.select(Report.id)):
        route_report(report_id)
    db.session.commit()
    first, second = db.session.scalars(sa.select(Referral).order_by(Referral.report_id)).all()
    second_ref = db.session.get(Report, second.report_id).reference
    _enrol(client)
    link = f"/triage/referrals/{first.id}"
    page = client.get(link).text
    offered = page.split('id="likely-reports"', 1)[1].split("</table>", 1)[0]
    assert second_ref in offered and "A witness" in offered and "Religion or beliefs" in offered
    done = client.post(f"{link}/link", data={"csrf_token": csrf(page), "other": str(second.id)}, follow_redirects=True)
    assert "linked as the same incident" in done.text
    assert second_ref in done.text.split('id="linked-reports"', 1)[1].split("</table>", 1)[0]
    assert 'id="likely-reports"' not in done.text
    # Seen from the other report too, and undone there.
    other_page = client.get(f"/triage/referrals/{second.id}").text
    assert 'id="linked-reports"' in other_page
    undone = client.post(
        f"/triage/referrals/{second.id}/unlink", data={"csrf_token": csrf(page), "other": str(first.id)}
    )
    assert undone.status_code == 302
    assert 'id="linked-reports"' not in client.get(link).text
    assert client.post(f"{link}/link", data={"csrf_token": csrf(page), "other": "nonsense"}).status_code == 404


def test_sealed_content_altered_in_the_database_shows_a_plain_page_not_an_error(client, app):
    made, police, officer = _police_officer()
    _one_report(app)
    _one_report(app, account={"narrative": "The second report."})
    first, second = db.session.scalars(sa.select(Report).order_by(Report.id)).all()
    first.sealed_account = second.sealed_account  # moved from another row: it will not open here
    db.session.commit()
    referral = db.session.scalar(sa.select(Referral).where(Referral.report_id == first.id))
    _enrol(client)
    page = client.get(f"/triage/referrals/{referral.id}")
    assert page.status_code == 409 and "cannot be opened" in page.text and "second report" not in page.text


def test_a_partner_records_why_an_incident_is_kept_and_an_erased_report_says_so(client, app):
    made, police, officer = _police_officer()
    _one_report(app)
    referral = _police_referral(police)
    db.session.execute(sa.update(Report).values(incident_type="incident"))  # a non-crime hate incident
    db.session.commit()
    _enrol(client)
    link = f"/triage/referrals/{referral.id}"
    page = client.get(link).text
    assert "Keeping this record" in page
    odd = client.post(f"{link}/keep", data={"csrf_token": csrf(page), "reason": "because"})
    assert odd.status_code == 200 and "Select whether there is a reason to keep this record" in errors(odd.text)
    kept = client.post(
        f"{link}/keep", data={"csrf_token": csrf(page), "reason": "significant_harm"}, follow_redirects=True
    )
    assert "Saved: the record is kept." in kept.text
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).keep_reason == "significant_harm"
    detail = db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "referral.keep_reason"))
    assert detail["reason"] == "significant_harm"
    reference = db.session.scalar(sa.select(Report.reference))
    erased = app.test_cli_runner().invoke(args=["mantra", "erase", reference, "--reason", "asked", "--yes"])
    assert erased.exit_code == 0, erased.output
    gone = client.get(link)
    assert gone.status_code == 410 and "content was erased" in gone.text and "shouted" not in gone.text


def test_the_reporter_reads_what_happened_in_plain_words_and_never_a_note(client, app):
    reporter, code, _referral, link, page = _officer_on_a_referral(client, app)
    client.post(f"{link}/acknowledge", data={"csrf_token": csrf(page)})
    client.post(f"{link}/note", data={"csrf_token": csrf(page), "note": "NOTEMARK: spoke to the neighbour"})
    client.post(f"{link}/message", data={"csrf_token": csrf(page), "body": "MESSAGEMARK: we are looking at it"})
    client.post(f"{link}/close", data={"csrf_token": csrf(page), "outcome": "support_given"})

    post(reporter, "/follow-up/", {"code": code})
    seen = reporter.get("/follow-up/report").text
    timeline = seen.split('id="timeline"')[1].split("</ol>")[0]
    steps = [
        "We received your report.",
        "Your report was passed to Thames Valley Police.",
        "Thames Valley Police acknowledged your report",
        "Thames Valley Police sent you a message.",
        "Thames Valley Police finished their work on your report: Support given.",
    ]
    places = [timeline.find(step) for step in steps]
    assert -1 not in places and places == sorted(places), timeline  # all there, oldest first
    assert "NOTEMARK" not in seen and "MARK" not in timeline  # never a note; a message's words only in the thread
    reporter.get("/language/pl?next=/follow-up/report")  # in the person's language
    polish = reporter.get("/follow-up/report").text.split('id="timeline"')[1].split("</ol>")[0]
    assert "Otrzymaliśmy Twoje zgłoszenie." in polish and "Udzielono wsparcia" in polish
