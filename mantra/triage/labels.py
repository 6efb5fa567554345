"""How a report's sealed answers read on the referral page: the question
each answer is to, in a few words, and the answer in words."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    AGE,
    ETHNICITY,
    KIND_LABELS,
    PERSON_ROLES,
    RELIGION,
    SEXUAL_ORIENTATIONS,
    STRAND_LABELS,
    Area,
    Partner,
    ReferralStatus,
)
from ..web.i18n import written_date

SECTIONS = [
    (
        _l("What happened"),
        "account",
        [
            "who",
            "person_consented",
            "kinds",
            "strands",
            "date",
            "time_of_day",
            "still_happening",
            "where",
            "area",
            "place",
            "online_detail",
            "narrative",
        ],
    ),
    (_l("People involved"), "account", ["people"]),
    (_l("Sharing and situation"), "account", ["consent_police", "consent_partners", "student", "council_tenant"]),
    (
        _l("Contact"),
        "contact",
        ["name", "may_contact", "methods", "email", "phone", "safe_times", "news", "language", "access_needs"],
    ),
    (
        _l("Equality monitoring"),
        "monitoring",
        ["age", "ethnicity", "religion", "sexual_orientation", "disability", "trans"],
    ),
]

LABELS = {
    "who": _l("Reported by"),
    "person_consented": _l("The person agreed"),
    "kinds": _l("What happened"),
    "strands": _l("Perceived motivation"),
    "date": _l("Date"),
    "time_of_day": _l("Time of day"),
    "still_happening": _l("Still happening"),
    "where": _l("Where"),
    "area": _l("Area"),
    "place": _l("Where exactly"),
    "online_detail": _l("Website or app"),
    "narrative": _l("Account in their words"),
    "people": _l("People described"),
    "consent_police": _l("Police may see it"),
    "consent_partners": _l("Other organisations may see it"),
    "student": _l("Student"),
    "council_tenant": _l("Council tenant"),
    "name": _l("Name"),
    "may_contact": _l("May be contacted"),
    "methods": _l("Contact by"),
    "email": _l("Email address"),
    "phone": _l("Phone number"),
    "safe_times": _l("Safe times to contact"),
    "news": _l("Asked for news emails"),
    "language": _l("Language"),
    "access_needs": _l("Access needs"),
    "age": _l("Age"),
    "ethnicity": _l("Ethnic group"),
    "religion": _l("Religion or belief"),
    "sexual_orientation": _l("Sexual orientation"),
    "disability": _l("Disabled"),
    "trans": _l("Gender same as at birth"),
}

VALUES = {
    "victim": _l("The person it happened to"),
    "witness": _l("A witness"),
    "on_behalf": _l("Someone reporting for them"),
    "centre_staff": _l("A reporting centre"),
    "yes": _l("Yes"),
    "no": _l("No"),
    "not_sure": _l("Not sure"),
    "prefer_not_to_say": _l("Prefer not to say"),
    "morning": _l("Morning"),
    "afternoon": _l("Afternoon"),
    "evening": _l("Evening"),
    "night": _l("Night"),
    "online": _l("Online"),
    "oxford": _l("In Oxford"),
    "outside": _l("Outside Oxford"),
    "not_known": _l("I do not know"),
    **{k.value: v for k, v in KIND_LABELS.items()},
    **{k.value: v for k, v in STRAND_LABELS.items()},
}


# What the person typed: shown exactly as written, never read as a choice.
TYPED = {
    "date",
    "place",
    "online_detail",
    "narrative",
    "name",
    "email",
    "phone",
    "safe_times",
    "language",
    "access_needs",
}


# Answers whose values mean something only for their own question ("other").
FIELD_VALUES = {
    "age": dict(AGE),
    "ethnicity": dict(ETHNICITY),
    "religion": dict(RELIGION),
    "sexual_orientation": dict(SEXUAL_ORIENTATIONS),
    "role": dict(PERSON_ROLES),
    "student": {"other": _l("Yes, somewhere else")},
}


def _choice(value, name: str | None = None):
    """A chosen answer in words (an unknown value with its underscores as spaces)."""
    if isinstance(value, list):
        return "\n".join(str(_choice(v, name)) for v in value)
    if isinstance(value, dict):  # a person described: the role chosen, the description typed
        return f"{_choice(value.get('role'), 'role')}: {value.get('description', '')}"
    if isinstance(value, str):
        return FIELD_VALUES.get(name, {}).get(value) or VALUES.get(value, value.replace("_", " "))
    return value


def sections(opened) -> list[dict]:
    """The report's answers under headings; answers not given are left out."""
    groups = {name: opened.content(name) or {} for name in ("account", "contact", "monitoring")}
    account = groups["account"]
    if account.get("month"):
        account["date"] = written_date(account)
    if account.get("area"):  # a slug chosen from the list: the area's name
        area = db.session.scalar(sa.select(Area.name).where(Area.slug == account["area"]))
        account["area"] = area or account["area"]
    university = account.get("student")
    if university and university not in VALUES and university != "other":  # a university's slug: its name
        name = db.session.scalar(sa.select(Partner.name).where(Partner.slug == university))
        account["student"] = _l("Yes – %(name)s", name=name) if name else university
    shown = []
    for heading, group, names in SECTIONS:
        rows = [
            {"key": LABELS[name], "value": groups[group][name] if name in TYPED else _choice(groups[group][name], name)}
            for name in names
            if groups[group].get(name) not in (None, "", [])
        ]
        if rows:
            shown.append({"heading": heading, "rows": rows})
    return shown


REFERRAL_STATUS_LABELS = {
    ReferralStatus.NEW: _l("New"),
    ReferralStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ReferralStatus.IN_PROGRESS: _l("In progress"),
    ReferralStatus.REFERRED_ON: _l("Referred on"),
    ReferralStatus.CLOSED: _l("Closed"),
}

EVENT_LABELS = {
    "report.submitted": _l("Report received"),
    "report.routed": _l("Sent to the organisations chosen by the routing rules"),
    "report.message.from_reporter": _l("Message from the reporter"),
    "report.message.to_reporter": _l("Message to the reporter"),
    "referral.acknowledged": _l("Acknowledged"),
    "referral.assigned": _l("Assigned"),
    "referral.note_added": _l("Note added"),
    "referral.asked": _l("Asked the reporter for more information"),
    "referral.referred_on": _l("Referred on to another organisation"),
    "referral.referred_in": _l("Referred to you by another organisation"),
    "report.linked": _l("Linked to another report of the same incident"),
    "report.unlinked": _l("Unlinked from another report"),
    "referral.closed": _l("Closed"),
}


# Common questions for "ask the reporter for more information".
ASK_LABELS = {
    "when": _l("When did it happen? The date and the time, as near as you can remember."),
    "where": _l("Where did it happen? The street, building or website."),
    "who": _l("Can you describe the people who did it, or tell us their names if you know them?"),
    "witnesses": _l("Did anyone else see or hear what happened?"),
    "evidence": _l("Do you have photos, screenshots or messages you could send us?"),
    "contact": _l("How and when would it be safe for us to contact you?"),
}
