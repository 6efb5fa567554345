"""The facet vocabularies, and the words people see for them.

Labels are lazy translations, so exports, the public journey and the staff
pages all say the same thing in the reader's language.
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class PartnerKind(enum.StrEnum):
    AGENCY = "agency"
    CENTRE = "centre"  # a third-party reporting centre


class StaffRole(enum.StrEnum):
    TRIAGE = "triage"  # a partner's triage officer
    PARTNER_ADMIN = "partner_admin"  # a partner's administrator: also grants its key to members
    CENTRE = "centre"  # a reporting centre's staff member
    COORDINATOR = "coordinator"  # the partnership's coordinator or analyst
    ADMIN = "admin"  # a system administrator


class AreaKind(enum.StrEnum):
    NEIGHBOURHOOD = "neighbourhood"
    ONLINE = "online"
    OUTSIDE = "outside"


class Channel(enum.StrEnum):
    ONLINE_SELF = "online_self"
    ONLINE_ON_BEHALF = "online_on_behalf"
    CENTRE = "centre"
    ASSISTED = "assisted"


class ReporterRole(enum.StrEnum):
    VICTIM = "victim"
    WITNESS = "witness"
    ON_BEHALF = "on_behalf"
    CENTRE_STAFF = "centre_staff"


class IncidentType(enum.StrEnum):
    CRIME = "crime"
    INCIDENT = "incident"
    NOT_SURE = "not_sure"


class Strand(enum.StrEnum):
    RACE = "race"
    RELIGION = "religion"
    SEXUAL_ORIENTATION = "sexual_orientation"
    DISABILITY = "disability"
    TRANSGENDER = "transgender"
    SEX_OR_GENDER = "sex_or_gender"
    AGE = "age"
    ALTERNATIVE_SUBCULTURE = "alternative_subculture"
    OTHER = "other"
    NOT_SURE = "not_sure"


MONITORED_STRANDS = (
    Strand.RACE,
    Strand.RELIGION,
    Strand.SEXUAL_ORIENTATION,
    Strand.DISABILITY,
    Strand.TRANSGENDER,
)


class IncidentKind(enum.StrEnum):
    VERBAL_ABUSE = "verbal_abuse"
    THREATS = "threats"
    PHYSICAL_ASSAULT = "physical_assault"
    PROPERTY_DAMAGE = "property_damage"
    GRAFFITI = "graffiti"
    ONLINE_ABUSE = "online_abuse"
    HARASSMENT = "harassment"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    RECEIVED = "received"  # stored sealed, waiting for routing
    ROUTED = "routed"  # with one or more partners
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class RecipientKind(enum.StrEnum):
    INTAKE = "intake"
    REPORTER = "reporter"
    PARTNER = "partner"
    RECOVERY = "recovery"


class ReferralStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    REFERRED_ON = "referred_on"
    CLOSED = "closed"


class NotificationKind(enum.StrEnum):
    NEW_REFERRAL = "new_referral"  # to the partner: a report is waiting
    ESCALATION = "escalation"  # to the duty lead and coordinators: not acknowledged in time
    REPORTER_NEWS = "reporter_news"  # to a reporter who asked: there is news, sign in
    ALERT = "alert"  # to the partnership's security contact: a report was held
    ACCESS_NEEDED = "access_needed"  # to a partner's administrators: a member's account was reset
    LEVELS_READY = "levels_ready"  # to coordinators: last month's reporting levels are published
    CONSENT_WITHDRAWN = "consent_withdrawn"  # to a partner: the person withdrew consent; access removed


class MessageDirection(enum.StrEnum):
    FROM_REPORTER = "from_reporter"
    TO_REPORTER = "to_reporter"


KIND_LABELS = {
    IncidentKind.VERBAL_ABUSE: _l("Verbal abuse or insults"),
    IncidentKind.THREATS: _l("Threats"),
    IncidentKind.PHYSICAL_ASSAULT: _l("Physical assault"),
    IncidentKind.PROPERTY_DAMAGE: _l("Damage to property"),
    IncidentKind.GRAFFITI: _l("Graffiti"),
    IncidentKind.ONLINE_ABUSE: _l("Online abuse"),
    IncidentKind.HARASSMENT: _l("Harassment over a period of time"),
    IncidentKind.OTHER: _l("Something else"),
}

STRAND_LABELS = {
    Strand.RACE: _l("Race, ethnicity or nationality"),
    Strand.RELIGION: _l("Religion or beliefs"),
    Strand.SEXUAL_ORIENTATION: _l("Sexual orientation"),
    Strand.DISABILITY: _l("Disability"),
    Strand.TRANSGENDER: _l("Transgender identity"),
    Strand.SEX_OR_GENDER: _l("Sex or gender"),
    Strand.AGE: _l("Age"),
    Strand.ALTERNATIVE_SUBCULTURE: _l("Alternative subculture (for example goth, punk or emo)"),
    Strand.OTHER: _l("Something else"),
    Strand.NOT_SURE: _l("Not sure"),
}

STATUS_LABELS = {
    ReportStatus.RECEIVED: _l("Received"),
    ReportStatus.ROUTED: _l("With a partner organisation"),
    ReportStatus.IN_PROGRESS: _l("Being handled"),
    ReportStatus.CLOSED: _l("Closed"),
}

ROLE_LABELS = {
    StaffRole.TRIAGE: _l("Triage officer"),
    StaffRole.PARTNER_ADMIN: _l("Partner administrator"),
    StaffRole.CENTRE: _l("Reporting centre staff"),
    StaffRole.COORDINATOR: _l("Partnership coordinator"),
    StaffRole.ADMIN: _l("System administrator"),
}

TYPE_LABELS = {
    IncidentType.CRIME: _l("A crime"),
    IncidentType.INCIDENT: _l("An incident that is not a crime"),
    IncidentType.NOT_SURE: _l("Not sure"),
}
CHANNEL_LABELS = {
    Channel.ONLINE_SELF: _l("Online, by the person it happened to"),
    Channel.ONLINE_ON_BEHALF: _l("Online, by someone for them"),
    Channel.CENTRE: _l("At a reporting centre"),
    Channel.ASSISTED: _l("With help from a member of staff"),
}
REPORTER_ROLE_LABELS = {
    ReporterRole.VICTIM: _l("The person it happened to"),
    ReporterRole.WITNESS: _l("A witness"),
    ReporterRole.ON_BEHALF: _l("Someone for the person it happened to"),
    ReporterRole.CENTRE_STAFF: _l("A reporting centre"),
}

# Why a partner keeps a non-crime hate incident's record past the short period
# (the 2023 code of practice): without one, the retention rules erase it.
KEEP_REASONS = {
    "significant_harm": _l("A real risk of significant harm to someone"),
    "future_offence": _l("A real risk that a criminal offence will be committed"),
}

# How a referral ends when the person withdraws their consent for its partner
# (domain/consent.py): never an outcome staff choose, and not counted with them.
WITHDRAWN = "consent_withdrawn"
WITHDRAWN_LABEL = _l("Consent withdrawn")

# How a referral can end: a fixed list, so outcomes can be counted.
OUTCOME_LABELS = {
    "support_given": _l("Support given"),
    "passed_to_police": _l("Passed to the police"),
    "investigated": _l("Investigated"),
    "no_further_action": _l("No further action"),
    "could_not_contact": _l("Could not contact the reporter"),
    "support_declined": _l("Support offered and declined"),
    "referred_elsewhere": _l("Referred to another service"),
}
