"""The question pages: one thing per page, answers kept sealed in a draft.
Each POST commits once; a GET writes nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from datetime import datetime

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from ..domain import facets, intake, queue
from ..domain.limits import CENTRE_IDLE, DRAFT_IDLE, MAX_FILES, MAX_PEOPLE, SENT_HELD, hours, minutes
from ..extensions import db, rate_limit, seconds_to_wait
from ..models import utcnow
from ..web import sessions
from ..web.access import centre_user
from ..web.i18n import written_date
from ..web.security import csrf_failed_page, error_page
from ..web.sessions import DRAFT
from ..web.uploads import UploadRejected, read_upload
from . import bp, questions, sharing
from .steps import BY_SLUG, STEPS, Step, first_incomplete, form_for, sealed_content, steps_for

log = logging.getLogger(__name__)


def _save(answers: dict) -> None:
    sessions.save(DRAFT, answers, DRAFT_IDLE)


def _neighbours(step: Step, answers: dict) -> tuple[str, str]:
    steps = steps_for(answers)
    i = next(i for i, s in enumerate(steps) if s.slug == step.slug)
    first = url_for("centre.submissions") if centre_user() else url_for("reporting.start")
    back = url_for("reporting.question", step=steps[i - 1].slug) if i else first
    after = url_for("reporting.question", step=steps[i + 1].slug) if i + 1 < len(steps) else url_for("reporting.check")
    return back, after


@bp.route("/report/<step>", methods=["GET", "POST"])
@rate_limit("question")
def question(step: str):
    if step == STEPS[0].slug and request.method == "GET" and request.args.get("new"):
        # A new report starts a new draft: fresh id and key at the first answer. A
        # draft cookie planted on (or copied from) this browser reads nothing of it.
        sessions.forget(DRAFT)  # the cookie only: a GET writes nothing
        return redirect(url_for("reporting.question", step=step))
    spec = BY_SLUG.get(step)
    answers = load_answers()
    if "sent" in answers:  # back from the confirmation: its receipt code, not an empty form
        return redirect(url_for("reporting.sent"))
    if centre_signed_out(answers):
        if request.method == "POST" and spec is not None and spec.fields and spec.applies(answers):
            _keep_answer(spec, answers)
        return _to_centre_sign_in()
    if spec is None:
        abort(404)
    if not spec.applies(answers):  # e.g. 'who' for a centre's staff: on to the first question that applies
        missing = first_incomplete(answers)
        return redirect(url_for("reporting.question", step=missing.slug) if missing else url_for("reporting.check"))
    missing = first_incomplete(answers)
    if missing is not None and STEPS.index(missing) < STEPS.index(spec):
        if request.method == "POST" and spec.fields:
            _keep_late_answer(spec, answers)
        return redirect(url_for("reporting.question", step=missing.slug))
    if spec.slug == "people":
        return _people(spec, answers)
    if spec.slug == "evidence":
        return _evidence(spec, answers)

    form = form_for(spec, answers, data={f: answers.get(f) for f in spec.fields})
    if form.validate_on_submit():
        if spec.slug == "who" and form.who.data == "centre_staff" and not centre_user():
            return redirect(url_for("centre.sign_in", next=url_for("reporting.question", step="who")))
        answers.update({f: getattr(form, f).data for f in spec.fields})
        _save(answers)
        db.session.commit()
        return redirect(_next_url(spec, answers))
    back = url_for("reporting.check") if request.args.get("change") else _neighbours(spec, answers)[0]
    return _question_page(spec, form, back)


OWN_TEMPLATES = {
    "why": "reporting/why.html",
    "when": "reporting/when.html",
    "where": "reporting/where.html",
    "contact": "reporting/contact.html",
}


def _question_page(spec: Step, form, back: str):
    template = OWN_TEMPLATES.get(spec.slug, "reporting/question.html")
    return render_template(template, form=form, step=spec, back=back)


@bp.errorhandler(CSRFError)
def _page_open_too_long(_error: CSRFError):
    """The browser's session ran out while the page was open (2 hours without
    activity): the page again, with what was typed on it, and a plain word on
    what happened. Nothing is saved from a post whose origin cannot be checked;
    the person's next Continue saves it."""
    hours_kept = hours(DRAFT_IDLE)
    return (
        _shown_again(
            _l(
                "For your safety, answers are deleted after %(hours)d hours without activity, and this page was open "
                "for longer than that. What you typed on this page is still here: check it and select Continue.",
                hours=hours_kept,
            ),
            _l(
                "For your safety, answers are deleted after %(hours)d hours without activity, and this page was open "
                "for longer than that. Choose your file again, then select Continue.",
                hours=hours_kept,
            ),
        )
        or csrf_failed_page()
    )


@bp.errorhandler(429)
def _too_many(_error):
    """A limit on posts was met: the page again, with what was typed on it,
    saying how long to wait."""
    wait = max(1, -(-seconds_to_wait() // 60))
    return _shown_again(
        _l(
            "You have sent a lot in a short time, so this page is paused for your safety. Please wait "
            "%(minutes)d minutes, then select Continue. What you typed is still here.",
            minutes=wait,
        ),
        _l(
            "You have sent a lot in a short time, so this page is paused for your safety. Please wait "
            "%(minutes)d minutes, then choose your file again and select Continue.",
            minutes=wait,
        ),
        status=429,
    ) or error_page(429)


def _shown_again(message, files_message, status: int = 200):
    """The question page that was posted, with what was posted on it (saving
    nothing) and `message`; None where that is not a question page."""
    spec = BY_SLUG.get((request.view_args or {}).get("step", ""))
    if request.endpoint != "reporting.question" or spec is None:
        return None
    answers = load_answers()
    flash(files_message if spec.slug == "evidence" else message)
    back = _neighbours(spec, answers)[0] if spec.applies(answers) else url_for("reporting.start")
    if spec.slug == "people":
        return _people_page(spec, answers, spec.form(), back), status
    if spec.slug == "evidence":
        return render_template("reporting/evidence.html", form=spec.form(), files=[], step=spec, back=back), status
    return _question_page(spec, form_for(spec, answers), back), status


def centre_signed_out(answers: dict) -> bool:
    """A report a centre member was writing, and nobody from the centre is signed in."""
    return answers.get("who") == "centre_staff" and centre_user() is None


def _to_centre_sign_in():
    flash(
        _l(
            "You were signed out because this computer was not used for %(minutes)d minutes. Sign in again to "
            "carry on with the report: what you entered is kept. If anyone else signs in, it is deleted.",
            minutes=minutes(CENTRE_IDLE),
        )
    )
    return redirect(url_for("centre.sign_in", next=request.path))


def load_answers() -> dict:
    """The draft's answers. A centre's staff member is not asked who is
    reporting: they report for the person in front of them."""
    answers = sessions.load(DRAFT)
    if centre_user() is not None and "sent" not in answers and not answers.get("who"):
        answers["who"] = "centre_staff"
    return answers


def _keep_answer(spec: Step, answers: dict) -> bool:
    """Save this page's answer when it is valid, whatever else has happened."""
    form = form_for(spec, answers)
    if not form.validate():
        return False
    answers.update({f: getattr(form, f).data for f in spec.fields})
    _save(answers)
    db.session.commit()
    return True


def _keep_late_answer(spec: Step, answers: dict) -> None:
    """An answer sent after the earlier ones expired: keep it rather than lose it."""
    if _keep_answer(spec, answers):
        flash(
            _l(
                "For your safety, answers are deleted after %(hours)d hours without activity. We kept what you just "
                "entered; please answer the earlier questions again.",
                hours=hours(DRAFT_IDLE),
            )
        )


def _next_url(spec: Step, answers: dict) -> str:
    if not spec.accepts(answers):  # an answer that cannot go on: a page on what to do instead
        return url_for("reporting.cannot_continue", step=spec.slug)
    if request.args.get("change") and first_incomplete(answers) is None:
        return url_for("reporting.check")
    return _neighbours(spec, answers)[1]


def _people(spec: Step, answers: dict):
    people = answers.setdefault("people", [])
    form = spec.form()
    if request.method == "POST":
        # 'Continue' with a description typed but not added adds it: nothing typed is lost.
        adding = "add" in request.form or bool((request.form.get("description") or "").strip())
        if adding and len(people) >= MAX_PEOPLE:
            form.description.errors = [
                _l("You can add up to %(count)d people. Describe anyone else in your own words.", count=MAX_PEOPLE)
            ]
        elif adding and form.validate():
            people.append({"role": form.role.data, "description": form.description.data})
            _save(answers)
            db.session.commit()
            if "add" in request.form:
                return redirect(url_for("reporting.question", step="people"))
        if "continue" in request.form and not form.errors:  # CSRFProtect has checked the token
            _save(answers)
            db.session.commit()
            return redirect(_next_url(spec, answers))
    return _people_page(spec, answers, form, _neighbours(spec, answers)[0])


def _people_page(spec: Step, answers: dict, form, back: str):
    people = answers.get("people") or []
    return render_template(
        "reporting/people.html", form=form, people=people, step=spec, back=back, role_labels=dict(form.role.choices)
    )


def _evidence(spec: Step, answers: dict):
    form = spec.form()
    files = sessions.list_files()
    if request.method == "POST":
        upload = request.files.get("file")
        chosen = upload is not None and bool(upload.filename)
        # 'Continue' with a file chosen but not uploaded uploads it: nothing chosen is lost.
        if ("add" in request.form or chosen) and form.validate():
            if not chosen:
                form.file.errors = [_l("Select a file to upload")]
            elif len(files) >= MAX_FILES:
                form.file.errors = [_l("You can upload up to %(count)d files", count=MAX_FILES)]
            else:
                try:
                    evidence = read_upload(upload)
                except UploadRejected as exc:
                    form.file.errors = [str(exc)]
                else:
                    _save(answers)  # makes sure the draft and its key exist
                    sessions.add_file(evidence)
                    db.session.commit()
                    if "add" in request.form:
                        return redirect(url_for("reporting.question", step="evidence"))
        if "continue" in request.form and not form.file.errors:
            return redirect(_next_url(spec, answers))
    back, _ = _neighbours(spec, answers)
    return render_template("reporting/evidence.html", form=form, files=files, step=spec, back=back)


# --- removing a person or a file: its own page, never a button in the form ----
# (Enter in a field sends a form with its first button, so a Remove button
# there would delete someone silently.)


def _fingerprint(entry: dict) -> str:
    """Names the entry a removal page was shown for: a resent or stale form
    removes nothing else."""
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()[:16]


def _removal_page(step: str, what, rows: list[dict], entry: dict):
    back = url_for("reporting.question", step=step)
    if request.method == "POST":
        if secrets.compare_digest(request.form.get("entry", ""), _fingerprint(entry)):
            return None  # confirmed: the caller removes it
        return redirect(back)
    return render_template("reporting/remove.html", what=what, rows=rows, entry=_fingerprint(entry), back=back)


@bp.route("/report/people/remove/<int:number>", methods=["GET", "POST"])
@rate_limit("question")
def remove_person(number: int):
    answers = sessions.load(DRAFT)
    people = answers.get("people") or []
    if "sent" in answers or not 1 <= number <= len(people):
        return redirect(url_for("reporting.question", step="people"))
    person = people[number - 1]
    role = dict(BY_SLUG["people"].form().role.choices).get(person["role"], person["role"])
    rows = [
        {"key": _l("Who is this person?"), "value": role},
        {"key": _l("Describe them"), "value": person["description"]},
    ]
    page = _removal_page("people", _l("person %(n)d", n=number), rows, person)
    if page is not None:
        return page
    people.pop(number - 1)
    _save(answers)
    db.session.commit()
    flash(_l("Person %(n)d (%(role)s) has been removed.", n=number, role=role))
    return redirect(url_for("reporting.question", step="people"))


@bp.route("/report/evidence/remove/<int:file_id>", methods=["GET", "POST"])
@rate_limit("question")
def remove_file(file_id: int):
    files = {f["id"]: f for f in sessions.list_files()}
    chosen = files.get(file_id)
    if chosen is None:
        return redirect(url_for("reporting.question", step="evidence"))
    rows = [
        {"key": _l("File"), "value": chosen["filename"]},
        {"key": _l("Size"), "value": f"{max(1, round(chosen['size'] / 1024))} KB"},
    ]
    page = _removal_page("evidence", _l("this file"), rows, chosen)
    if page is not None:
        return page
    sessions.remove_file(file_id)
    db.session.commit()
    number = list(files).index(file_id) + 1
    flash(_l("File %(n)d has been removed. It was not sent.", n=number))
    return redirect(url_for("reporting.question", step="evidence"))


# --- check your answers, send, confirmation -----------------------------------


def _submission(answers: dict, with_files: bool = True) -> intake.Submission:
    user = centre_user()
    return intake.Submission(
        **facets.facets_from_answers(answers, centre_partner_id=user.partner_id if user else None),
        submitted_by_id=user.id if user else None,
        content=sealed_content(answers),
        evidence=sessions.load_files() if with_files else [],
        news_email=answers.get("news_email") if answers.get("news") == "yes" else None,
        language=str(get_locale() or "en"),
    )


def who_will_see(answers: dict) -> list[tuple]:
    """The partners the routing rules will choose, each with why it is there."""
    user = centre_user()
    centre_id = user.partner_id if user else None
    report = intake.report_from(_submission(answers, with_files=False))
    return [(p, sharing.reason(p, answers, centre_id)) for p in facets.who_will_see(report)]


@bp.get("/report/<step>/cannot-continue")
def cannot_continue(step: str):
    """Where an answer that cannot go on leads: what to do next, never a dead end."""
    spec = BY_SLUG.get(step)
    answers = load_answers()
    if spec is None or not spec.applies(answers) or spec.accepts(answers):
        return redirect(url_for("reporting.start"))
    return render_template(f"reporting/cannot_continue/{spec.slug}.html", step=spec)


@bp.route("/report/check", methods=["GET", "POST"])
@rate_limit("send_report")
def check():
    form = questions.SubmitReportForm()
    answers = load_answers()
    if centre_signed_out(answers):  # never sent as if a member of the public wrote it
        return _to_centre_sign_in()
    if form.validate_on_submit() and not form.website.data:
        return _send(form)
    if "sent" in answers:
        return redirect(url_for("reporting.sent"))
    if not answers:
        flash(_l("Your answers were cleared or have expired. Please start again."))
        return redirect(url_for("reporting.start"))
    missing = first_incomplete(answers)
    if missing is not None:
        return redirect(url_for("reporting.question", step=missing.slug))
    if form.website.data:  # the honeypot: a person never fills it in
        form.website.errors = [_l("Leave this field blank")]
        g.spam = True
    return _check_page(form, answers)


def _check_page(form, answers: dict, problem: bool = False):
    form.send_token.data = form.send_token.data or secrets.token_urlsafe(16)
    return render_template(
        "reporting/check.html",
        form=form,
        sections=summary_sections(answers),
        partners=who_will_see(answers),
        answers=answers,
        problem=problem,
    )


def _send(form):
    """Store the report in the same transaction as the draft's swap to 'sent':
    a failure anywhere stores nothing and leaves the answers as they were."""
    token = form.send_token.data
    if not token:  # not sent from a 'Check your answers' page
        return redirect(url_for("reporting.check"))
    try:
        claimed = sessions.claim(DRAFT, {"sending": True})
        if claimed is None or "sent" in claimed or first_incomplete(claimed) is not None:
            # Sent already (a double click, a retry from the same page: the same
            # confirmation again, even if a simultaneous send got there first),
            # expired, or not finished.
            db.session.rollback()
            sent = sessions.load(DRAFT).get("sent")
            if sent and secrets.compare_digest(sent.get("token", ""), token):
                return _to_confirmation(token)
            return redirect(url_for("reporting.check"))  # a copied cookie: the reference at most, never the code
        submission = _submission(claimed)
        report, code = intake.store_report(submission)
        report_id = report.id
        sent = {
            "reference": report.reference,
            "code": code,
            "may_contact": claimed.get("may_contact") == "yes",
            "news": submission.news_email is not None,
            "token": token,
            "until": (utcnow() + SENT_HELD).isoformat(),
            "files": [  # their fingerprints, shown with the receipt code
                {"filename": f.filename, "received_sha256": f.received_sha256, "stored_sha256": f.stored_sha256}
                for f in submission.evidence
            ],
        }
        if submission.evidence:
            sessions.discard_files()
        sessions.save(DRAFT, {"sent": sent}, SENT_HELD)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.error("report not stored; the answers are kept (%s)", type(exc).__name__)
        return _check_page(form, sessions.load(DRAFT), problem=True), 503
    queue.enqueue_routing(report_id)  # after the commit; never raises, and the sweeper catches a miss
    return _to_confirmation(token)


def _to_confirmation(token: str):
    """The send's page token goes in the cookie: it is what shows the receipt
    code again (after a refresh, a language switch or a footer link), and a
    copy of the cookie taken before sending does not hold it."""
    session["receipt"] = token
    return redirect(url_for("reporting.sent"), 303)


def held_receipt() -> dict | None:
    """The sent report whose receipt code this browser may see again, if any."""
    sent = sessions.load(DRAFT).get("sent")
    token = session.get("receipt")
    if sent and isinstance(token, str) and secrets.compare_digest(sent.get("token", ""), token):
        return {**sent, "until": datetime.fromisoformat(sent["until"])}
    return None


def _receipt_page(template: str):
    sent = held_receipt()
    if sent is None:
        if "sent" in sessions.load(DRAFT):
            sessions.forget(DRAFT)
        flash(
            _l(
                "For your safety, we show a receipt code for only %(minutes)d minutes after a report is sent, and "
                "only on the device that sent it. If you did not save it, you can still make a new report and "
                "mention the first one.",
                minutes=minutes(SENT_HELD),
            )
        )
        return redirect(url_for("reporting.start"))
    return render_template(template, sent=sent, centre=centre_user(), minutes=minutes(SENT_HELD))


@bp.get("/report/sent")
def sent():
    """The confirmation, with the receipt code: shown again, in the language
    chosen now, until the person says they saved it or the time is up."""
    return _receipt_page("reporting/confirmation.html")


@bp.get("/report/sent/print")
def print_receipt():
    return _receipt_page("reporting/receipt_print.html")


@bp.post("/report/sent/saved")
def receipt_saved():
    """'I have saved my receipt code': this device stops showing it, now."""
    if held_receipt() is not None:
        sessions.discard(DRAFT)
        db.session.commit()
        flash(_l("Your receipt code is no longer shown on this device."))
    session.pop("receipt", None)
    return redirect(url_for("reporting.start"))


SECTIONS = [
    (_l("What happened"), ("who", "centre-consent", "what", "why", "when", "where", "account")),
    (_l("People, photos and documents"), ("people", "evidence")),
    (_l("Who can see it"), ("sharing",)),
    (_l("Situation and contact"), ("situation", "contact")),
    (None, ("about",)),  # the page's own title: about you, or about the person it happened to
]
CONTACT_DETAILS_SHOWN_ONLY_UNDER_YES = ("methods", "email", "phone", "safe_times")


def summary_sections(answers: dict) -> list[dict]:
    """'Check your answers', grouped under headings; each row's Change link
    goes to its own question."""
    rows = {spec.slug: _rows(spec, answers) for spec in steps_for(answers)}
    sections = []
    for heading, slugs in SECTIONS:
        section_rows = [row for slug in slugs for row in rows.get(slug, [])]
        if section_rows:
            if heading is None:
                heading = form_for(BY_SLUG[slugs[0]], answers).page_title or BY_SLUG[slugs[0]].title
            sections.append({"heading": heading, "rows": section_rows})
    return sections


def _rows(spec: Step, answers: dict) -> list[dict]:
    change = url_for("reporting.question", step=spec.slug, change=1)
    if spec.slug == "people":
        people = answers.get("people") or []
        roles = dict(spec.form().role.choices)
        value = "\n".join(f"{roles.get(p['role'], p['role'])}: {p['description']}" for p in people)
        return [{"key": _l("People involved"), "value": value or _l("None added"), "href": change + "#role"}]
    if spec.slug == "evidence":
        names = ", ".join(f["filename"] for f in sessions.list_files()) or _l("None added")
        return [{"key": _l("Files"), "value": names, "href": change + "#file"}]
    form = form_for(spec, answers, formdata=None, data={f: answers.get(f) for f in spec.fields})
    rows = []
    fields = list(spec.fields)
    if spec.slug == "when":
        rows.append({"key": _l("Date"), "value": written_date(answers), "href": change + "#day"})
        fields = ["time_of_day", "still_happening"]
    if spec.slug == "where" and answers.get("where", "oxford") != "oxford":
        fields.remove("area")
    if spec.slug == "contact" and answers.get("may_contact") != "yes":
        fields = [f for f in fields if f not in CONTACT_DETAILS_SHOWN_ONLY_UNDER_YES]
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
        rows.append({"key": key, "value": value or _l("Not given"), "href": f"{change}#{f.id}"})
    return rows
