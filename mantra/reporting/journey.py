"""The question pages: one thing per page, answers kept sealed in a draft."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date
from typing import Callable

import sqlalchemy as sa
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from .. import intake, rules
from ..extensions import db, rate_limit
from ..models import Area, AreaKind, Channel, IncidentKind, IncidentType, Partner, ReporterRole, Strand
from . import bp, forms
from .drafts import (
    add_draft_file,
    claim_draft_for_sending,
    discard_draft,
    list_draft_files,
    load_draft,
    load_draft_files,
    mark_draft_sent,
    remove_draft_file,
    save_draft,
)
from .uploads import MAX_FILES, UploadRejected, read_upload


@dataclass(frozen=True)
class Step:
    slug: str
    form: type
    fields: tuple[str, ...]
    title: str | None = None  # pages with several questions have their own heading
    applies: Callable[[dict], bool] = lambda answers: True
    required: tuple[str, ...] = ()


STEPS = [
    Step("who", forms.WhoForm, ("who",), required=("who",)),
    Step("centre-consent", forms.CentreConsentForm, ("person_consented",),
         applies=lambda a: a.get("who") == "centre_staff", required=("person_consented",)),
    Step("what", forms.WhatForm, ("kinds",), required=("kinds",)),
    Step("why", forms.WhyForm, ("strands",), required=("strands",)),
    Step("when", forms.WhenForm, ("day", "month", "year", "time_of_day", "still_happening"),
         title=_l("When did it happen?"), required=("month", "year", "still_happening")),
    Step("where", forms.WhereForm, ("area", "place", "online_detail"), required=("area",)),
    Step("account", forms.AccountForm, ("narrative",), required=("narrative",)),
    Step("people", forms.PersonForm, ()),
    Step("evidence", forms.EvidenceForm, ()),
    Step("sharing", forms.SharingForm, ("consent_police", "consent_partners"),
         title=_l("Who can see your report"), required=("consent_police", "consent_partners")),
    Step("situation", forms.SituationForm, ("student", "council_tenant"),
         title=_l("About your situation"), required=("student", "council_tenant")),
    Step("contact", forms.ContactForm, ("may_contact", "methods", "email", "phone", "safe_times", "language", "access_needs"),
         title=_l("Contacting you"), required=("may_contact",)),
    Step("about", forms.AboutForm, ("name", "age", "ethnicity", "religion", "sexual_orientation", "disability", "trans"),
         title=_l("About you")),
]
BY_SLUG = {s.slug: s for s in STEPS}


def centre_user():
    """The signed-in reporting-centre member, if any (set by the centre blueprint)."""
    return getattr(g, "centre_user", None)


def _steps_for(answers: dict) -> list[Step]:
    return [s for s in STEPS if s.applies(answers)]


def first_incomplete(answers: dict) -> Step | None:
    for step in _steps_for(answers):
        if any(answers.get(f) in (None, "", []) for f in step.required):
            return step
    return None


def _neighbours(step: Step, answers: dict) -> tuple[str, str]:
    steps = _steps_for(answers)
    i = next(i for i, s in enumerate(steps) if s.slug == step.slug)
    back = url_for("reporting.question", step=steps[i - 1].slug) if i else url_for("reporting.start")
    after = url_for("reporting.question", step=steps[i + 1].slug) if i + 1 < len(steps) else url_for("reporting.check")
    return back, after


NOT_KNOWN_AREA = "not_known"
_AREA_KIND_NAMES = {AreaKind.ONLINE: _l("Online"), AreaKind.OUTSIDE: _l("Outside Oxford")}


def _areas() -> list[tuple[str, str]]:
    areas = db.session.scalars(sa.select(Area).order_by(Area.kind, Area.sort_order))
    return [(a.slug, _AREA_KIND_NAMES.get(a.kind, a.name)) for a in areas] + [
        (NOT_KNOWN_AREA, _l("I do not know which part of Oxford"))]


def _form(spec: Step, answers: dict | None = None, **kwargs):
    """The step's form, with the choices and wording that depend on data, on
    who is signed in, and on who is reporting."""
    form = spec.form(**kwargs)
    if spec.slug == "situation" and (answers or {}).get("who", "victim") != "victim":
        form.student.label.text = _l("Is the person it happened to a student?")
        form.student.choices = [(v, label) for v, label in forms.SITUATION_STUDENT_FOR_SOMEONE]
        form.council_tenant.label.text = _l("Does the person it happened to rent their home from the council?")
    if spec.slug == "where":
        form.area.choices = [("", _l("Select a place"))] + _areas()
    if spec.slug == "who" and centre_user():  # centre staff report for the person in front of them
        form.who.choices = [("centre_staff", _l("I work at this reporting centre and am reporting for someone"))]
    return form


MAX_PEOPLE = 20


@bp.route("/report/<step>", methods=["GET", "POST"])
@rate_limit("question")
def question(step: str):
    spec = BY_SLUG.get(step)
    answers = load_draft()
    if "sent" in answers:  # a new report after one was sent: start afresh
        discard_draft()
        answers = {}
    if spec is None or not spec.applies(answers):
        abort(404)
    missing = first_incomplete(answers)
    if missing is not None and STEPS.index(missing) < STEPS.index(spec):
        if request.method == "POST" and spec.fields:
            _keep_late_answer(spec, answers)
        return redirect(url_for("reporting.question", step=missing.slug))
    if spec.slug == "people":
        return _people(spec, answers)
    if spec.slug == "evidence":
        return _evidence(spec, answers)

    form = _form(spec, answers, data={f: answers.get(f) for f in spec.fields})
    if form.validate_on_submit():
        if spec.slug == "who" and form.who.data == "centre_staff" and not centre_user():
            return redirect(url_for("centre.sign_in", next=url_for("reporting.question", step="who")))
        answers.update({f: getattr(form, f).data for f in spec.fields})
        save_draft(answers)
        return redirect(_next_url(spec, answers))
    back = url_for("reporting.check") if request.args.get("change") else _neighbours(spec, answers)[0]
    return render_template(f"reporting/{spec.slug if spec.slug == 'when' else 'question'}.html",
                           form=form, step=spec, back=back)


def _keep_late_answer(spec: Step, answers: dict) -> None:
    """An answer sent after the earlier ones expired: keep it rather than lose it."""
    form = _form(spec, answers)
    if form.validate():
        answers.update({f: getattr(form, f).data for f in spec.fields})
        save_draft(answers)
        flash(_l("For your safety, answers are deleted after 2 hours without activity. We kept what you just "
                 "entered; please answer the earlier questions again."))


def _next_url(spec: Step, answers: dict) -> str:
    if request.args.get("change") and first_incomplete(answers) is None:
        return url_for("reporting.check")
    return _neighbours(spec, answers)[1]


def _people(spec: Step, answers: dict):
    people = answers.setdefault("people", [])
    form = spec.form()
    if request.method == "POST":
        if "remove" in request.form:
            index = request.form.get("remove", type=int)
            if index is not None and 0 <= index < len(people):
                people.pop(index)
                save_draft(answers)
            return redirect(url_for("reporting.question", step="people"))
        # 'Continue' with a description typed but not added adds it: nothing typed is lost.
        adding = "add" in request.form or bool((request.form.get("description") or "").strip())
        if adding and len(people) >= MAX_PEOPLE:
            form.description.errors = [_l("You can add up to 20 people. Describe anyone else in your own words.")]
        elif adding and form.validate():
            people.append({"role": form.role.data, "description": form.description.data})
            save_draft(answers)
            if "add" in request.form:
                return redirect(url_for("reporting.question", step="people"))
        if "continue" in request.form and not form.errors:  # CSRFProtect has checked the token
            save_draft(answers)
            return redirect(_next_url(spec, answers))
    back, _ = _neighbours(spec, answers)
    return render_template("reporting/people.html", form=form, people=people, step=spec, back=back,
                           role_labels=dict(form.role.choices))


def _evidence(spec: Step, answers: dict):
    form = spec.form()
    files = list_draft_files()
    if request.method == "POST":
        if "remove" in request.form:
            remove_draft_file(request.form.get("remove", type=int) or 0)
            return redirect(url_for("reporting.question", step="evidence"))
        upload = request.files.get("file")
        chosen = upload is not None and bool(upload.filename)
        # 'Continue' with a file chosen but not uploaded uploads it: nothing chosen is lost.
        if ("add" in request.form or chosen) and form.validate():
            if not chosen:
                form.file.errors = [_l("Select a file to upload")]
            elif len(files) >= MAX_FILES:
                form.file.errors = [_l("You can upload up to 5 files")]
            else:
                try:
                    evidence = read_upload(upload)
                except UploadRejected as exc:
                    form.file.errors = [str(exc)]
                else:
                    save_draft(answers)  # makes sure the draft and its key exist
                    add_draft_file(evidence)
                    if "add" in request.form:
                        return redirect(url_for("reporting.question", step="evidence"))
        if "continue" in request.form and not form.file.errors:
            return redirect(_next_url(spec, answers))
    back, _ = _neighbours(spec, answers)
    return render_template("reporting/evidence.html", form=form, files=files, step=spec, back=back)


# --- check your answers, send, confirmation -----------------------------------


def facets_from(answers: dict) -> dict:
    kinds = [IncidentKind(k) for k in answers.get("kinds", [])]
    crime_kinds = {IncidentKind.PHYSICAL_ASSAULT, IncidentKind.PROPERTY_DAMAGE, IncidentKind.THREATS, IncidentKind.GRAFFITI}
    student_at = answers.get("student")
    return {
        "kinds": kinds,
        "strands": [Strand(s) for s in answers.get("strands", [])],
        "incident_type": IncidentType.CRIME if crime_kinds & set(kinds) else IncidentType.NOT_SURE,
        "consent_police": answers.get("consent_police") == "yes",
        "consent_partners": answers.get("consent_partners") == "yes",
        "may_contact": answers.get("may_contact") == "yes",
        "flag_student": student_at in ("uni-oxford", "oxford-brookes", "other"),
        "student_at": student_at if student_at in ("uni-oxford", "oxford-brookes") else None,
        "flag_council_tenant": answers.get("council_tenant") == "yes",
        "flag_ongoing_risk": answers.get("still_happening") == "yes",
    }


def _rule_facets(facets: dict, area_slug: str | None) -> dict:
    return {**facets, "kinds": [k.value for k in facets["kinds"]],
            "strands": [s.value for s in facets["strands"]], "area": area_slug}


def who_will_see(answers: dict) -> list[Partner]:
    partners = rules.recipients(_rule_facets(facets_from(answers), answers.get("area")))
    user = centre_user()
    if user is not None and user.partner not in partners:
        partners.insert(0, user.partner)
    return partners


@bp.route("/report/check", methods=["GET", "POST"])
@rate_limit("send_report")
def check():
    answers = load_draft()
    if not answers:
        flash(_l("Your answers were cleared or have expired. Please start again."))
        return redirect(url_for("reporting.start"))
    form = forms.SubmitReportForm()
    if "sending" in answers:  # another request is sending this report this very moment
        answers = _wait_until_sent()
    sent = answers.get("sent")
    if sent is not None:
        if form.validate_on_submit():  # sent twice (a retry, a double click): same confirmation
            return _confirmation(sent)
        flash(_l("Your report has been sent. Your reference number is %(reference)s.", reference=sent["reference"]))
        return redirect(url_for("reporting.start"))
    missing = first_incomplete(answers)
    if missing is not None:
        return redirect(url_for("reporting.question", step=missing.slug))
    if form.validate_on_submit():
        if form.website.data:
            form.website.errors = [_l("Leave this field blank")]
        else:
            claimed = claim_draft_for_sending()
            if claimed is None:  # lost the race to a simultaneous send of the same report
                sent = _wait_until_sent().get("sent")
                return _confirmation(sent) if sent else redirect(url_for("reporting.check"))
            try:
                report, code = intake.store_report(_submission(claimed))
            except Exception:
                save_draft(claimed)  # not stored: give the answers back so the person can send again
                raise
            sent = {"reference": report.reference, "code": code, "may_contact": claimed.get("may_contact") == "yes"}
            try:
                mark_draft_sent(sent)
            except Exception as exc:  # the report is stored: nothing may stop the person seeing their code
                current_app.logger.error("report %s stored; draft not closed (%s)", report.id, type(exc).__name__)
            return _confirmation(sent)
    return render_template("reporting/check.html", form=form, rows=summary_rows(answers),
                           partners=who_will_see(answers), answers=answers)


def _wait_until_sent(seconds: float = 10) -> dict:
    """The draft once a simultaneous send of it has finished. A send that
    died half-way (no answer after `seconds`) gives the answers back."""
    answers: dict = {}
    for _ in range(int(seconds / 0.2)):
        db.session.expire_all()
        answers = load_draft()
        if "sending" not in answers:
            return answers
        if answers["sending"] + seconds < time.time():
            break
        time.sleep(0.2)
    if "sending" in answers:
        save_draft(answers["answers"])
        return answers["answers"]
    return answers


def _confirmation(sent: dict):
    # Rendered in the response to the POST, never after a redirect, so the
    # receipt code is never put in a cookie or a URL.
    return render_template("reporting/confirmation.html", reference=sent["reference"], code=sent["code"],
                           may_contact=sent["may_contact"], centre=centre_user())


def _submission(answers: dict) -> intake.Submission:
    facets = facets_from(answers)
    area = db.session.scalar(sa.select(Area).where(Area.slug == answers.get("area")))  # None when not known
    user = centre_user()
    who = answers["who"]
    role = {"victim": ReporterRole.VICTIM, "witness": ReporterRole.WITNESS,
            "on_behalf": ReporterRole.ON_BEHALF, "centre_staff": ReporterRole.CENTRE_STAFF}[who]
    channel = Channel.CENTRE if user else (Channel.ONLINE_ON_BEHALF if who == "on_behalf" else Channel.ONLINE_SELF)

    contact_fields = ("may_contact", "methods", "email", "phone", "safe_times", "language", "access_needs", "name")
    monitoring_fields = ("age", "ethnicity", "religion", "sexual_orientation", "disability", "trans")
    return intake.Submission(
        channel=channel,
        reporter_role=role,
        incident_month=date(int(answers["year"]), int(answers["month"]), 1),
        area_id=area.id if area else None,
        centre_partner_id=user.partner_id if user else None,
        submitted_by_id=user.id if user else None,
        account={k: answers.get(k) for k in ("day", "month", "year", "time_of_day", "still_happening",
                                                 "place", "online_detail", "narrative", "people", "person_consented")},
        contact={k: answers.get(k) for k in contact_fields},
        monitoring={k: answers.get(k) for k in monitoring_fields},
        evidence=load_draft_files(),
        **facets,
    )


def summary_rows(answers: dict) -> list[dict]:
    """Check-your-answers rows, built from each step's own form and choices."""
    rows = []
    for spec in _steps_for(answers):
        change = url_for("reporting.question", step=spec.slug, change=1)
        if spec.slug == "people":
            people = answers.get("people") or []
            roles = dict(spec.form().role.choices)
            value = "\n".join(f"{roles.get(p['role'], p['role'])}: {p['description']}" for p in people) or _l("None added")
            rows.append({"key": _l("People involved"), "value": value, "href": change})
            continue
        if spec.slug == "evidence":
            names = ", ".join(f["filename"] for f in list_draft_files()) or _l("None added")
            rows.append({"key": _l("Files"), "value": names, "href": change})
            continue
        form = _form(spec, answers, formdata=None, data={f: answers.get(f) for f in spec.fields})
        if spec.slug == "when":
            day = answers.get("day")
            value = (f"{day}/" if day else "") + f"{answers.get('month')}/{answers.get('year')}"
            rows.append({"key": _l("Date"), "value": value, "href": change})
            fields = ("time_of_day", "still_happening")
        else:
            fields = spec.fields
        for name in fields:
            f = getattr(form, name)
            value = answers.get(name)
            choices = dict(f.choices) if getattr(f, "choices", None) else None
            if value in (None, "", []):
                value = None
            elif isinstance(value, list):
                value = "\n".join(str(choices.get(v, v)) for v in value)
            elif choices is not None:
                value = choices.get(value, value)
            key = re.sub(r"\s*\([^)]*\)$", "", str(f.label.text))  # drop "(optional)" in any language
            rows.append({"key": key, "value": value or _l("Not given"), "href": change})
    return rows
