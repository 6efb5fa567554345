"""Duplicates: one incident reported by the victim, a witness and a centre is
flagged from facets and linked by staff; a partner only ever sees reports it
holds a referral for."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mantra.domain import duplicates, intake
from mantra.extensions import db
from mantra.models import (
    Area,
    AreaKind,
    AuditEvent,
    Channel,
    IncidentKind,
    Referral,
    ReporterRole,
    ReportLink,
    Strand,
)

from .factories import make_partners, make_user, marked_submission

EVENING = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # when the victim reported


@pytest.fixture
def partnership(app):
    return _partnership()


def _partnership():
    """Victim Support and the police, each with a member; two areas; the centre."""
    made, area = make_partners(police_rule=True, support_rule=True)
    elsewhere = Area(slug="jericho", name="Jericho", kind=AreaKind.NEIGHBOURHOOD)
    db.session.add(elsewhere)
    db.session.commit()
    support, police = made["victim-support"][0], made["tvp-oxford"][0]
    return {
        "area": area,
        "elsewhere": elsewhere,
        "centre": made["centre-library"][0],
        "support": support,
        "police": police,
        "caseworker": make_user(support, "caseworker@victim-support.example"),
        "officer": make_user(police, "officer@tvp.example"),
    }


def _report(area, days: float = 0, **facets):
    """A report stored and routed by the worker, submitted `days` after the
    victim's. By default the victim's: race, religion and "other"; verbal
    abuse and threats; November; consent to share with the police and others
    (so both Victim Support and the police hold it)."""
    from mantra.jobs.route import route_report

    facets.setdefault("strands", [Strand.RACE, Strand.RELIGION, Strand.OTHER])
    sub = dataclasses.replace(marked_submission("DUPLICATE", area.id if area is not None else None), **facets)
    report, _code = intake.store_report(sub)
    db.session.commit()
    assert route_report(report.id).startswith("routed")
    report.submitted_at = EVENING + timedelta(days=days)
    db.session.commit()
    return report


def _referral(report, partner) -> Referral | None:
    return db.session.scalar(
        sa.select(Referral).where(Referral.report_id == report.id, Referral.partner_id == partner.id)
    )


def _count(what, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(what).where(*where))


def _link_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.in_(("report.linked", "report.unlinked")))
            .order_by(AuditEvent.id)
        )
    )


def test_the_victim_a_witness_and_a_centre_reporting_one_incident_are_flagged_to_each_other(any_app):
    p = _partnership()
    area = p["area"]
    victim = _report(area)
    witness = _report(
        area,
        days=2,
        reporter_role=ReporterRole.WITNESS,
        strands=[Strand.RACE, Strand.NOT_SURE],
        kinds=[IncidentKind.THREATS, IncidentKind.PHYSICAL_ASSAULT],
        incident_month=None,  # a witness unsure of the month is still a match
    )
    centre = _report(
        area,
        days=-1,
        channel=Channel.CENTRE,
        reporter_role=ReporterRole.CENTRE_STAFF,
        centre_partner_id=p["centre"].id,
        strands=[Strand.RELIGION, Strand.RACE],
        kinds=[IncidentKind.HARASSMENT, IncidentKind.THREATS],
    )
    # Each like the victim's but for one facet: none of them is the same incident.
    _report(p["elsewhere"], days=1)
    _report(area, days=10)
    _report(area, days=-10)
    _report(area, days=1, strands=[Strand.DISABILITY, Strand.OTHER])  # only the vague "other" in common
    _report(area, days=1, kinds=[IncidentKind.GRAFFITI])
    october = _report(area, days=1, incident_month=date(2026, 10, 1))
    _report(None, days=1)

    police = p["police"]
    flagged = duplicates.likely(_referral(victim, police))
    assert [c.referral_id for c in flagged] == [_referral(centre, police).id, _referral(witness, police).id]
    from_centre, from_witness = flagged
    assert from_witness.reference == witness.reference
    assert from_witness.reporter_role == ReporterRole.WITNESS and from_witness.channel == Channel.ONLINE_SELF
    assert from_witness.strands == (Strand.RACE,) and from_witness.kinds == (IncidentKind.THREATS,)
    assert from_centre.channel == Channel.CENTRE and from_centre.reporter_role == ReporterRole.CENTRE_STAFF
    assert from_centre.strands == (Strand.RACE, Strand.RELIGION)
    assert from_centre.kinds == (IncidentKind.THREATS,)

    # Flagged from either side, and never to itself. The witness gave no month,
    # so the October report is as likely to be theirs.
    assert [c.referral_id for c in duplicates.likely(_referral(witness, police))] == [
        _referral(october, police).id,
        _referral(victim, police).id,
        _referral(centre, police).id,
    ]
    assert [c.reference for c in duplicates.likely(_referral(centre, police), limit=1)] == [victim.reference]
    unknown_area = duplicates.likely(_referral(_report(None), police))
    assert unknown_area == []  # no area is no evidence of the same place


def test_a_report_the_partner_does_not_hold_is_never_flagged_or_shown_linked(partnership):
    p = partnership
    support, police = p["support"], p["police"]
    victim = _report(p["area"])
    witness = _report(p["area"], days=1, consent_police=False)  # Victim Support's only
    centre = _report(p["area"], days=2)
    assert _referral(witness, police) is None

    assert [c.referral_id for c in duplicates.likely(_referral(victim, support))] == [
        _referral(witness, support).id,
        _referral(centre, support).id,
    ]
    assert [c.referral_id for c in duplicates.likely(_referral(victim, police))] == [_referral(centre, police).id]

    # Victim Support links all three; the police see the link to the report they hold, not the other.
    assert duplicates.link(p["caseworker"], _referral(victim, support), _referral(witness, support).id)
    assert duplicates.link(p["caseworker"], _referral(victim, support), _referral(centre, support).id)
    db.session.commit()
    assert [r.referral_id for r in duplicates.linked(_referral(victim, support))] == [
        _referral(witness, support).id,
        _referral(centre, support).id,
    ]
    police_view = duplicates.linked(_referral(victim, police))
    assert [r.referral_id for r in police_view] == [_referral(centre, police).id]  # its own referral's id
    assert police_view[0].reference == centre.reference
    assert police_view[0].strands == (Strand.RACE, Strand.RELIGION, Strand.OTHER)
    assert witness.reference not in repr(police_view)
    assert [(r.referral_id, r.reference) for r in duplicates.linked(_referral(centre, police))] == [
        (_referral(victim, police).id, victim.reference)
    ]
    assert duplicates.likely(_referral(victim, police)) == []  # linked already; the other never held


def test_linking_another_partners_referral_is_refused_and_writes_nothing(partnership):
    p = partnership
    support, police, officer = p["support"], p["police"], p["officer"]
    victim = _report(p["area"])
    witness = _report(p["area"], days=1, consent_police=False)
    ours = _referral(victim, police)

    assert not duplicates.link(officer, ours, _referral(witness, support).id)  # not the police's
    assert not duplicates.link(officer, ours, _referral(victim, support).id)
    centre = _report(p["area"], days=2)
    assert not duplicates.link(officer, _referral(victim, support), _referral(witness, support).id)
    assert not duplicates.link(officer, _referral(victim, support), _referral(centre, police).id)
    assert not duplicates.link(officer, ours, ours.id)  # a report is not its own duplicate
    assert not duplicates.link(officer, ours, 10**9)
    assert not duplicates.unlink(officer, ours, _referral(witness, support).id)
    db.session.commit()
    assert _count(ReportLink) == 0 and _link_events() == []


def test_a_link_and_unlink_round_trip_is_audited_with_ids_only(partnership):
    p = partnership
    support, caseworker = p["support"], p["caseworker"]
    victim = _report(p["area"])
    witness = _report(p["area"], days=1, reporter_role=ReporterRole.WITNESS)
    from_victim, from_witness = _referral(victim, support), _referral(witness, support)

    assert duplicates.link(caseworker, from_victim, from_witness.id)
    db.session.commit()
    assert [r.referral_id for r in duplicates.linked(from_victim)] == [from_witness.id]
    assert [r.referral_id for r in duplicates.linked(from_witness)] == [from_victim.id]
    assert duplicates.linked(from_witness)[0].reporter_role == ReporterRole.VICTIM
    assert duplicates.likely(from_victim) == duplicates.likely(from_witness) == []  # linked: no longer candidates
    # The police hold both reports: they see the link Victim Support made, from their own referrals.
    assert [r.referral_id for r in duplicates.linked(_referral(victim, p["police"]))] == [
        _referral(witness, p["police"]).id
    ]

    assert duplicates.unlink(caseworker, from_witness, from_victim.id)
    db.session.commit()
    assert duplicates.linked(from_victim) == [] and duplicates.linked(from_witness) == []
    assert [c.referral_id for c in duplicates.likely(from_victim)] == [from_witness.id]
    assert _count(ReportLink) == 0

    linked, unlinked = _link_events()
    assert (linked.action, linked.actor_id, linked.partner_id, linked.report_id) == (
        "report.linked",
        caseworker.id,
        support.id,
        victim.id,
    )
    assert linked.detail == {"referral_id": from_victim.id, "other_report_id": witness.id}
    assert (unlinked.action, unlinked.report_id, unlinked.detail["other_report_id"]) == (
        "report.unlinked",
        witness.id,
        victim.id,
    )
    assert "DUPLICATE" not in repr([(e.action, e.detail) for e in (linked, unlinked)])


def test_linking_is_idempotent_and_a_pair_is_stored_once_whichever_order(partnership):
    p = partnership
    support, caseworker, officer = p["support"], p["caseworker"], p["officer"]
    first = _report(p["area"])
    second = _report(p["area"], days=1)
    low, high = _referral(first, support), _referral(second, support)

    assert duplicates.link(caseworker, high, low.id)  # from the later report's page
    assert duplicates.link(caseworker, low, high.id)
    assert duplicates.link(officer, _referral(first, p["police"]), _referral(second, p["police"]).id)
    db.session.commit()
    link = db.session.scalar(sa.select(ReportLink))
    assert _count(ReportLink) == 1 and (link.report_id, link.other_report_id) == (first.id, second.id)
    assert (link.linked_by_id, link.partner_id) == (caseworker.id, support.id)
    assert [e.action for e in _link_events()] == ["report.linked"]
    assert duplicates.unlink(caseworker, low, high.id) and duplicates.unlink(caseworker, low, high.id)
    db.session.commit()
    assert [e.action for e in _link_events()] == ["report.linked", "report.unlinked"]

    # The database itself refuses a pair the other way round, or twice.
    for pair in [(second.id, first.id), (first.id, first.id)]:
        with pytest.raises(IntegrityError):
            with db.session.begin_nested():
                db.session.add(
                    ReportLink(
                        report_id=pair[0], other_report_id=pair[1], linked_by_id=caseworker.id, partner_id=support.id
                    )
                )
    db.session.add(
        ReportLink(report_id=first.id, other_report_id=second.id, linked_by_id=caseworker.id, partner_id=support.id)
    )
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(
                ReportLink(
                    report_id=first.id, other_report_id=second.id, linked_by_id=officer.id, partner_id=p["police"].id
                )
            )
    db.session.rollback()
