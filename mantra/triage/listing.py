"""The referral inbox: the member's own partner's referrals, filtered on
facets, sorted and paged in SQL. Nothing is decrypted to list them."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..extensions import db
from ..models import (
    KIND_LABELS,
    STRAND_LABELS,
    TYPE_LABELS,
    WITHDRAWN,
    WITHDRAWN_LABEL,
    Area,
    AreaKind,
    IncidentType,
    Referral,
    ReferralStatus,
    Report,
    ReportKind,
    ReportStrand,
    StaffUser,
    as_utc,
    utcnow,
)
from ..web.forms import ListField

PAGE_SIZE = 25
DUE_SOON = timedelta(hours=4)
OPEN = (ReferralStatus.NEW, ReferralStatus.ACKNOWLEDGED, ReferralStatus.IN_PROGRESS)


class FilterForm(FlaskForm):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    status = ListField(_l("Status"), [])
    strand = ListField(_l("Perceived motivation"), [])
    kind = ListField(_l("What happened"), [])
    incident_type = ListField(_l("Type of incident"), [])
    area = ListField(_l("Area"), [])
    deadline = ListField(_l("Deadline"), [])
    assignee = ListField(_l("Assigned to"), [])
    sort = ListField(_l("Sort by"), [])


def filter_form(args, status_labels) -> FilterForm:
    form = FilterForm(args)
    anything = [("", _l("Any"))]
    form.status.choices = [("", _l("Open (not closed)")), ("all", _l("Any"))] + [
        (s.value, status_labels[s]) for s in ReferralStatus
    ]
    form.strand.choices = anything + [(s.value, label) for s, label in STRAND_LABELS.items()]
    form.kind.choices = anything + [(k.value, label) for k, label in KIND_LABELS.items()]
    form.incident_type.choices = anything + [(t.value, label) for t, label in TYPE_LABELS.items()]
    areas = db.session.scalars(sa.select(Area).where(Area.kind == AreaKind.NEIGHBOURHOOD).order_by(Area.sort_order))
    form.area.choices = anything + [(a.slug, a.name) for a in areas]
    form.deadline.choices = anything + [
        ("overdue", _l("Overdue")),
        ("soon", _l("Due within 4 hours")),
        ("urgent", _l("Urgent")),
    ]
    form.assignee.choices = anything + [("me", _l("Me")), ("nobody", _l("Nobody"))]
    form.sort.choices = [
        ("deadline", _l("Deadline, soonest first")),
        ("newest", _l("Newest first")),
        ("oldest", _l("Oldest first")),
    ]
    form.validate()  # a value not offered is dropped, never an error: filters are not questions
    for field in form:
        if field.errors or not field.data:
            field.data, field.errors = "", []
    return form


def page_of(user: StaffUser, form: FilterForm, page: int) -> tuple[list, int]:
    """One page of (referral, reference, submitted at) rows, and the total."""
    now = utcnow()
    where = [Referral.partner_id == user.partner_id]
    status = form.status.data
    if status == "":
        where.append(Referral.status.in_(OPEN))
    elif status != "all":
        where.append(Referral.status == ReferralStatus(status))
    if form.strand.data:
        where.append(
            sa.exists().where(ReportStrand.report_id == Referral.report_id, ReportStrand.strand == form.strand.data)
        )
    if form.kind.data:
        where.append(sa.exists().where(ReportKind.report_id == Referral.report_id, ReportKind.kind == form.kind.data))
    if form.incident_type.data:
        where.append(Report.incident_type == IncidentType(form.incident_type.data))
    if form.area.data:
        where.append(Report.area_id == sa.select(Area.id).where(Area.slug == form.area.data).scalar_subquery())
    if form.deadline.data == "overdue":
        where += [Referral.status == ReferralStatus.NEW, Referral.ack_due_at < now]
    elif form.deadline.data == "soon":
        where += [Referral.status == ReferralStatus.NEW, Referral.ack_due_at.between(now, now + DUE_SOON)]
    elif form.deadline.data == "urgent":
        where.append(Referral.urgent)
    if form.assignee.data == "me":
        where.append(Referral.assigned_to_id == user.id)
    elif form.assignee.data == "nobody":
        where.append(Referral.assigned_to_id.is_(None))
    order = {
        "newest": [Referral.id.desc()],
        "oldest": [Referral.id.asc()],
    }.get(form.sort.data, [Referral.ack_due_at.asc().nulls_last(), Referral.id.desc()])
    base = (
        sa.select(Referral, Report.reference, Report.submitted_at)
        .join(Report, Report.id == Referral.report_id)
        .where(*where)
    )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    rows = db.session.execute(base.order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, total


def badge(referral: Referral) -> tuple[str, object] | None:
    """The deadline as a tag: (colour, words), or None when it no longer applies."""
    if referral.outcome == WITHDRAWN:
        return "purple", WITHDRAWN_LABEL
    if referral.status != ReferralStatus.NEW or referral.ack_due_at is None:
        return None
    left = as_utc(referral.ack_due_at) - utcnow()
    if left < timedelta(0):
        return "red", _l("Overdue")
    if left <= DUE_SOON:
        return "yellow", _l("Due soon")
    return "grey", _l("On time")
