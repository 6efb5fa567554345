"""Small builders for tests: partners, users and sealed reports."""

from __future__ import annotations

from datetime import date

from mantra.domain import accounts, intake, pins, queue
from mantra.extensions import db
from mantra.models import (
    Area,
    AreaKind,
    Channel,
    IncidentKind,
    IncidentType,
    PartnerKind,
    ReporterRole,
    RoutingRule,
    StaffRole,
    Strand,
)


def make_partners(police_rule: bool = False, support_rule: bool = False):
    """A default triage partner, the police, and a reporting centre, with their keys;
    with `police_rule`, the rule sending reports with police consent to the police;
    with `support_rule`, the rule sending reports with consent to share to victim support."""
    made = {}
    for slug, name, kind, default in [
        ("victim-support", "Victim Support", PartnerKind.AGENCY, True),
        ("tvp-oxford", "Thames Valley Police", PartnerKind.AGENCY, False),
        ("centre-library", "Central Library centre", PartnerKind.CENTRE, False),
    ]:
        made[slug] = accounts.create_partner(
            slug,
            name,
            kind,
            is_default_triage=default,
            is_police=slug == "tvp-oxford",
            duty_email=f"duty@{slug}.example",
        )
    if police_rule:
        db.session.add(
            RoutingRule(
                name="police", priority=1, conditions={"consent_police": True}, partner_id=made["tvp-oxford"][0].id
            )
        )
    if support_rule:
        support_id = made["victim-support"][0].id
        db.session.add(
            RoutingRule(name="support", priority=5, conditions={"consent_partners": True}, partner_id=support_id)
        )
    area = Area(slug="cowley", name="Cowley", kind=AreaKind.NEIGHBOURHOOD)
    db.session.add(area)
    db.session.commit()
    pins.pin([partner for partner, _key in made.values()])  # as `flask mantra pins add` does
    return made, area


def make_user(partner, email="staff@example.org", password="a long staff password", role=StaffRole.TRIAGE):
    user = accounts.create_user(email, "Staff Member", partner, role, password)
    db.session.commit()
    return user


def marked_submission(marker: str, area_id: int | None = None, centre_id: int | None = None) -> intake.Submission:
    """A report with the marker in every content field a person can fill in."""
    return intake.Submission(
        channel=Channel.CENTRE if centre_id else Channel.ONLINE_SELF,
        reporter_role=ReporterRole.VICTIM,
        incident_type=IncidentType.CRIME,
        kinds=[IncidentKind.VERBAL_ABUSE, IncidentKind.THREATS],
        strands=[Strand.RACE, Strand.RELIGION],
        incident_month=date(2026, 11, 1),
        area_id=area_id,
        consent_police=True,
        consent_partners=True,
        may_contact=True,
        centre_partner_id=centre_id,
        content={
            "account": {
                "narrative": f"narrative {marker}",
                "exact_date": f"date {marker}",
                "place": f"place {marker}",
                "people": [{"description": f"offender {marker}"}, {"description": f"witness {marker}"}],
            },
            "contact": {"name": f"name {marker}", "email": f"{marker}@example.org", "phone": f"07700 {marker}"},
            "monitoring": {"ethnicity": f"ethnicity {marker}", "religion": f"religion {marker}"},
        },
        evidence=[intake.EvidenceFile(f"photo-{marker}.png", "image/png", f"PNGDATA {marker}".encode())],
    )


def stored(sub: intake.Submission):
    """Store a report as the send view does: in one transaction, then queue it."""
    report, code = intake.store_report(sub)
    db.session.commit()
    queue.enqueue_routing(report.id)
    return report, code


def stored_file(code: str) -> bytes:
    """The one evidence file of the report this receipt code opens, as staff will get it."""
    import sqlalchemy as sa

    from mantra.crypto import vault
    from mantra.models import Attachment

    opened = intake.open_with_receipt(code)
    attachment = db.session.scalar(sa.select(Attachment).where(Attachment.report_id == opened.report_id))
    place = intake.attachment_place(attachment)
    return vault.open_sealed(opened.data_key, attachment.sealed_body, table="attachment", row_id=place, field="body")
