"""The journey's pages, in order. Each step names its form, whose fields are
its questions, and the sealed group its answers are stored in: a question is
declared once, in its form, and is stored because its page is a step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from wtforms import SubmitField
from wtforms.fields.core import UnboundField

from ..domain.intake import SEALED_GROUPS
from ..extensions import db
from ..models import Area, AreaKind, Partner
from . import questions as q
from . import wording


def _questions(form: type) -> tuple[str, ...]:
    """A form's questions: its fields, less buttons and the honeypot."""
    return tuple(
        name
        for name, f in vars(form).items()
        if isinstance(f, UnboundField) and not issubclass(f.field_class, SubmitField) and name != "website"
    )


@dataclass(frozen=True)
class Step:
    slug: str
    form: type
    sealed: str | None  # the sealed group its answers go in; None: files, stored as attachments
    title: str | None = None  # pages with several questions have their own heading
    applies: Callable[[dict], bool] = lambda answers: True
    required: tuple[str, ...] = ()
    sealed_apart: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # question -> other group
    collection: str | None = None  # the page adds entries to a list kept under this answer
    not_sealed: tuple[str, ...] = ()  # answers kept in the draft but sealed elsewhere, never with the report
    accepts: Callable[[dict], bool] = lambda answers: True  # an answer that cannot go on (it has its own page)

    @property
    def fields(self) -> tuple[str, ...]:
        """Answers this page's form sets directly."""
        return () if self.collection or self.sealed is None else _questions(self.form)

    @property
    def answers(self) -> tuple[str, ...]:
        """Answers this page leaves in the draft, to be sealed."""
        return (self.collection,) if self.collection else tuple(f for f in self.fields if f not in self.not_sealed)

    def __post_init__(self):
        assert self.sealed in SEALED_GROUPS or self.sealed is None, self.slug
        assert set(self.required) <= set(self.fields), self.slug
        assert set(self.sealed_apart) <= set(self.fields) and set(self.sealed_apart.values()) <= set(SEALED_GROUPS)


STEPS = [
    # Centre staff are not asked who they are: they report for the person in front of them.
    Step("who", q.WhoForm, "account", applies=lambda a: a.get("who") != "centre_staff", required=("who",)),
    Step(
        "centre-consent",
        q.CentreConsentForm,
        "account",
        applies=lambda a: a.get("who") == "centre_staff",
        required=("person_consented",),
        accepts=lambda a: a.get("person_consented") == "yes",
    ),
    Step("what", q.WhatForm, "account", required=("kinds",)),
    Step("why", q.WhyForm, "account", required=("strands",)),
    Step("when", q.WhenForm, "account", title=_l("When did it happen?"), required=("month", "year", "still_happening")),
    Step("where", q.WhereForm, "account", required=("area",)),
    Step("account", q.AccountForm, "account", required=("narrative",)),
    Step("people", q.PersonForm, "account", collection="people"),
    Step("evidence", q.EvidenceForm, None),
    Step(
        "sharing",
        q.SharingForm,
        "account",
        title=_l("Who can see your report"),
        required=("consent_police", "consent_partners"),
    ),
    Step(
        "situation",
        q.SituationForm,
        "account",
        title=_l("About your situation"),
        required=("student", "council_tenant"),
    ),
    Step(
        "contact",
        q.ContactForm,
        "contact",
        title=_l("Contacting you"),
        required=("may_contact",),
        not_sealed=("news_email",),  # sealed to the notify key alone (intake.Submission.news_email)
    ),
    Step("about", q.AboutForm, "monitoring", title=_l("About you"), sealed_apart=MappingProxyType({"name": "contact"})),
]
BY_SLUG = {s.slug: s for s in STEPS}


def steps_for(answers: dict) -> list[Step]:
    return [s for s in STEPS if s.applies(answers)]


def first_incomplete(answers: dict) -> Step | None:
    for step in steps_for(answers):
        if any(answers.get(f) in (None, "", []) for f in step.required) or not step.accepts(answers):
            return step
    return None


def sealed_content(answers: dict) -> dict[str, dict]:
    """Every answer, in the sealed group its step declares."""
    content: dict[str, dict] = {group: {} for group in SEALED_GROUPS}
    for step in steps_for(answers):
        for name in step.answers:
            content[step.sealed_apart.get(name, step.sealed)][name] = answers.get(name)
    return content


NOT_KNOWN_AREA = "not_known"


def _areas() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The parts of Oxford to choose from, and the areas standing for 'Online'
    and 'Outside Oxford' (by kind)."""
    areas = list(db.session.scalars(sa.select(Area).order_by(Area.kind, Area.sort_order)))
    parts = [(a.slug, a.name) for a in areas if a.kind == AreaKind.NEIGHBOURHOOD]
    kinds = {a.kind.value: a.slug for a in reversed(areas) if a.kind != AreaKind.NEIGHBOURHOOD}
    return parts + [(NOT_KNOWN_AREA, _l("I do not know which part of Oxford"))], kinds


def _student_choices(for_someone: bool) -> list[tuple[str, str]]:
    universities = db.session.scalars(
        sa.select(Partner).where(Partner.serves_students, Partner.active).order_by(Partner.name)
    )
    choices = [("no", _l("No"))] + [(p.slug, _l("Yes – %(name)s", name=p.name)) for p in universities]
    choices.append(("other", _l("Yes, somewhere else")))
    return choices + [("not_sure", _l("Not sure"))] if for_someone else choices


def form_for(step: Step, answers: dict | None = None, **kwargs):
    """The step's form, with the choices that depend on data and the wording
    that depends on who is reporting (wording.py)."""
    form = step.form(**kwargs)
    role = (answers or {}).get("who") or "victim"
    if step.slug == "situation":
        form.student.choices = _student_choices(for_someone=role != "victim")
    if step.slug == "where":
        parts, form.kind_areas = _areas()
        form.area.choices = [("", _l("Select a part of Oxford"))] + parts
        if not form.where.data and form.area.data:  # answered before 'where' was asked this way
            kind = {slug: kind for kind, slug in form.kind_areas.items()}.get(form.area.data)
            form.where.data = kind or "oxford"
        if form.where.data != "oxford" and form.area.data in form.kind_areas.values():
            form.area.data = ""  # the select shows a part of Oxford, or nothing
    wording.apply(step.slug, form, role)
    return form
