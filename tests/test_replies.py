"""Reply templates: a partner administrator keeps their organisation's short
first messages; a member starts from one on the referral page and changes it."""

from __future__ import annotations

import sqlalchemy as sa

from mantra.extensions import db
from mantra.models import AuditEvent, Partner, ReplyTemplate, StaffRole

from .factories import make_user
from .journey import csrf, errors
from .test_admin_people import _signed_in
from .test_casework import _officer_on_a_referral
from .test_triage import PASSWORD

FIRST = "Thank you for telling us.\nWe have read your report and will call you within two working days."


def test_a_partner_admin_keeps_templates_and_a_member_starts_a_message_from_one(client, app):
    _reporter, _code, referral, link, page = _officer_on_a_referral(client, app)
    assert 'id="reply-templates"' not in page  # none yet: nothing offered
    police = db.session.get(Partner, referral.partner_id)
    make_user(police, "admin@tvp.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    admin = _signed_in(app, "admin@tvp.example")
    assert "/admin/replies" in admin.get("/admin/").text

    form = admin.get("/admin/replies/new").text
    empty = admin.post("/admin/replies/new", data={"csrf_token": csrf(form), "title": "First contact", "body": " "})
    assert errors(empty.text) == ["Enter the message"] and 'value="First contact"' in empty.text  # kept as typed
    saved = admin.post(
        "/admin/replies/new",
        data={"csrf_token": csrf(form), "title": "First contact", "body": FIRST},
        follow_redirects=True,
    )
    assert "The template ‘First contact’ has been saved." in saved.text and "within two working days" in saved.text
    twice = admin.post("/admin/replies/new", data={"csrf_token": csrf(form), "title": "First contact", "body": "x"})
    assert errors(twice.text) == ["Your organisation already has a template with this name"]
    template = db.session.scalar(sa.select(ReplyTemplate))
    assert template.partner_id == police.id

    # A member of the partner starts a message from it: the box holds it, to change before sending.
    page = client.get(link).text
    assert 'id="reply-templates"' in page and "First contact" in page
    chosen = client.get(f"{link}?reply={template.id}").text
    assert "within two working days.</textarea>" in chosen
    assert "within two working days" not in client.get(f"{link}?reply=999999").text

    # Another partner's administrator cannot see, change or delete it; a triage member cannot manage any.
    support = db.session.scalar(sa.select(Partner).where(Partner.slug == "victim-support"))
    make_user(support, "admin@vs.example", PASSWORD, StaffRole.PARTNER_ADMIN)
    other = _signed_in(app, "admin@vs.example")
    assert "First contact" not in other.get("/admin/replies").text
    assert other.get(f"/admin/replies/{template.id}").status_code == 404
    listing = other.get("/admin/replies").text
    assert other.post(f"/admin/replies/{template.id}/delete", data={"csrf_token": csrf(listing)}).status_code == 404
    assert client.get("/admin/replies").status_code in (403, 404)

    listing = admin.get("/admin/replies").text
    gone = admin.post(f"/admin/replies/{template.id}/delete", data={"csrf_token": csrf(listing)}, follow_redirects=True)
    assert "has been deleted" in gone.text and db.session.scalar(sa.select(ReplyTemplate)) is None
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("reply_template.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["reply_template.saved", "reply_template.deleted"]
