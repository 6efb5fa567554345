"""Facets: the clear, coarse half of a report. Routing, the inbox, deadlines
and statistics use them only, so none of them needs to decrypt anything.

Computed in one place each: from the journey's answers when a report is
made, and from a stored report when it is routed (or previewed as "who will
see your report"), so the preview and the routing job cannot disagree.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    RULE_FACETS,
    Area,
    Channel,
    IncidentKind,
    IncidentType,
    Partner,
    Report,
    ReporterRole,
    ReportKind,
    ReportStrand,
    RuleError,
    Strand,
    check_conditions,
)
from . import rules

CRIME_KINDS = frozenset(
    {IncidentKind.PHYSICAL_ASSAULT, IncidentKind.PROPERTY_DAMAGE, IncidentKind.THREATS, IncidentKind.GRAFFITI}
)
# Answers to "are you a student?" that are not a university partner's slug.
NOT_A_STUDENT = frozenset({"no", "not_sure"})
STUDENT_ELSEWHERE = "other"
_ROLES = {
    "victim": ReporterRole.VICTIM,
    "witness": ReporterRole.WITNESS,
    "on_behalf": ReporterRole.ON_BEHALF,
    "centre_staff": ReporterRole.CENTRE_STAFF,
}


def incident_type_for(kinds) -> IncidentType:
    """Crime when what happened is a crime on its face; otherwise triage decides."""
    return IncidentType.CRIME if CRIME_KINDS & set(kinds) else IncidentType.NOT_SURE


def facets_from_answers(answers: dict, centre_partner_id: int | None = None) -> dict:
    """The facets of a report from the journey's answers (which are also sealed
    with the content, so a worker can check these against them)."""
    kinds = [IncidentKind(k) for k in answers.get("kinds", [])]
    role = _ROLES[answers["who"]]
    if centre_partner_id is not None:
        channel = Channel.CENTRE
    else:
        channel = Channel.ONLINE_ON_BEHALF if role == ReporterRole.ON_BEHALF else Channel.ONLINE_SELF
    student = answers.get("student") or "no"
    area = db.session.scalar(sa.select(Area).where(Area.slug == answers.get("area")))  # None: not known
    return {
        "channel": channel,
        "reporter_role": role,
        "incident_type": incident_type_for(kinds),
        "kinds": kinds,
        "strands": [Strand(s) for s in answers.get("strands", [])],
        "incident_month": date(int(answers["year"]), int(answers["month"]), 1),
        "area_id": area.id if area is not None else None,
        "consent_police": answers.get("consent_police") == "yes",
        "consent_partners": answers.get("consent_partners") == "yes",
        "may_contact": answers.get("may_contact") == "yes",
        "named": bool((answers.get("name") or "").strip()),  # a count only: the name itself is sealed
        "flag_student": student not in NOT_A_STUDENT,
        "student_at": None if student in NOT_A_STUDENT | {STUDENT_ELSEWHERE} else student,
        "flag_council_tenant": answers.get("council_tenant") == "yes",
        "flag_ongoing_risk": answers.get("still_happening") == "yes",
        "centre_partner_id": centre_partner_id,
    }


def routing_facets(report: Report) -> dict:
    """What routing rules test, read from a report's facet columns only."""
    facets = {
        "strands": [s.strand.value for s in report.strands],
        "kinds": [k.kind.value for k in report.kinds],
        "incident_type": report.incident_type.value,
        "channel": report.channel.value,
        "reporter_role": report.reporter_role.value,
        "area": report.area.slug if report.area is not None else None,
        "student_at": report.student_at,
        "consent_police": report.consent_police,
        "consent_partners": report.consent_partners,
        "may_contact": report.may_contact,
        "flag_student": report.flag_student,
        "flag_council_tenant": report.flag_council_tenant,
        "flag_ongoing_risk": report.flag_ongoing_risk,
    }
    assert facets.keys() == RULE_FACETS.keys()  # a new facet must be offered to rules too
    return facets


_ONE_OF = {"incident_type": IncidentType, "channel": Channel, "reporter_role": ReporterRole}


def preview_report(answers: dict, centre_partner_id: int | None = None) -> Report:
    """A throwaway report with these answers (facet -> value, as a rule's
    conditions are written), never added to the session: what an administrator
    previews "who will see your report" with. Answers not given are no, or none.
    The CLI and the administration pages both preview through this."""
    check_conditions(answers)
    report = Report(
        channel=Channel.CENTRE if centre_partner_id else Channel.ONLINE_SELF,
        reporter_role=ReporterRole.VICTIM,
        incident_type=IncidentType.NOT_SURE,
        centre_partner_id=centre_partner_id,
        strands=[],
        kinds=[],
        **{name: False for name in rules.FLAGS},
    )
    for name, value in answers.items():
        values = value if isinstance(value, list) else [value]
        if name == "strands":
            report.strands = [ReportStrand(strand=Strand(v)) for v in dict.fromkeys(values)]
        elif name == "kinds":
            report.kinds = [ReportKind(kind=IncidentKind(v)) for v in dict.fromkeys(values)]
        elif len(values) != 1:
            raise RuleError(f"{name}: a report has one")
        elif name == "area":
            report.area = db.session.scalar(sa.select(Area).where(Area.slug == value))
        else:
            setattr(report, name, _ONE_OF[name](value) if name in _ONE_OF else value)
    return report


def who_will_see(report: Report) -> list[Partner]:
    """The partners a report goes to: its centre (if a centre made it), then
    the partners its routing rules choose, consent respected."""
    partners = rules.recipients(routing_facets(report))
    if report.centre_partner_id is not None:
        centre = db.session.get(Partner, report.centre_partner_id)
        partners = [centre] + [p for p in partners if p.id != centre.id]
    return partners
