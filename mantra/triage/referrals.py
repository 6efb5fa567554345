"""The referral inbox and the referral page: a partner's casework.

The inbox lists facets only; the referral page opens the report with the
member's keys (user key -> partner key -> the report's data key), and every
view, decryption, download and action writes an audit event.
"""

from __future__ import annotations

import base64
import io

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l

from ..crypto import vault
from ..domain import casework, duplicates, evidence, messages, queue
from ..domain.permissions import Permission
from ..extensions import db
from ..models import KIND_LABELS, OUTCOME_LABELS, REPORTER_ROLE_LABELS, STRAND_LABELS, WITHDRAWN, Report
from ..web import previews, staff
from ..web.forms import page_number, row_id
from ..web.staff import needs
from . import bp, labels, listing
from .forms import AskForm, AssignForm, CloseForm, KeepForm, LinkForm, MessageForm, NoteForm, ReferOnForm
from .labels import ASK_LABELS, EVENT_LABELS, REFERRAL_STATUS_LABELS


def _case(referral_id: int):
    """The signed-in member, their key and their own partner's referral."""
    user, key = staff.member()
    found = casework.referral_for(user, referral_id)
    if found is None:
        abort(404)  # another partner's looks the same as none at all
    if found.outcome == WITHDRAWN:  # its wrap is gone, and nothing more is this partner's to do
        reference = db.session.scalar(sa.select(Report.reference).where(Report.id == found.report_id))
        db.session.rollback()
        page = render_template("triage/withdrawn.html", form=None, reference=reference, referral=found)
        abort(make_response(page, 410))
    return user, key, found


def _cannot_open(user, found, why) -> None:
    """A plain page, never content: the member's keys do not open the report,
    or its sealed content was altered in the database."""
    current_app.logger.error("referral %s would not open for user %s: %s", found.id, user.id, why)
    db.session.rollback()
    abort(make_response(render_template("triage/cannot_open.html", form=None), 409))


def _open(user, key, found):
    """The report behind the referral, opened with the member's keys (audited),
    or the page saying its content was erased."""
    reference, erased_at = db.session.execute(
        sa.select(Report.reference, Report.erased_at).where(Report.id == found.report_id)
    ).one()
    if erased_at is not None:
        db.session.rollback()
        page = render_template("triage/erased.html", form=None, reference=reference, erased_at=erased_at)
        abort(make_response(page, 410))
    try:
        return casework.open_referral(user, key, found)
    except casework.CaseworkError as exc:
        _cannot_open(user, found, exc)


PREVIEW_PAGES = 5  # a file's first pages are drawn; the rest is in the download

FORMS = {
    "message_form": MessageForm,
    "assign_form": AssignForm,
    "close_form": CloseForm,
    "note_form": NoteForm,
    "ask_form": AskForm,
    "refer_form": ReferOnForm,
    "keep_form": KeepForm,
}


def _referral_page(user, key, found, failed=None, opened=None):
    """The referral page; `failed` is the one form posted with errors (kept as typed)."""
    opened = opened or _open(user, key, found)
    try:
        return _render_referral(user, key, found, failed, opened)
    except vault.VaultError:
        _cannot_open(user, found, "sealed content altered")


def _render_referral(user, key, found, failed, opened):
    forms = {name: failed if isinstance(failed, cls) else cls(formdata=None) for name, cls in FORMS.items()}
    if not isinstance(failed, AssignForm):
        forms["assign_form"].assignee.data = str(found.assigned_to_id or "")
    replies = casework.reply_templates(user.partner_id)
    chosen = next((t for t in replies if str(t.id) == request.args.get("reply")), None)
    if chosen is not None and not isinstance(failed, MessageForm):
        forms["message_form"].body.data = chosen.body  # a start: the member changes it before sending
    if not isinstance(failed, KeepForm):
        forms["keep_form"].reason.data = found.keep_reason or "none"
    forms["assign_form"].assignee.choices = [("", _l("Nobody"))] + [
        (str(c.id), c.display_name) for c in casework.colleagues(user)
    ]
    referable = casework.referable(opened)
    forms["refer_form"].partner.choices = [("", _l("Choose an organisation"))] + [
        (str(p.id), p.name) for p, consented in referable if consented
    ]
    page = render_template(
        "triage/referral.html",
        form=failed,  # the form with errors, for the error summary
        **forms,
        not_consented=[p for p, consented in referable if not consented],
        referral=found,
        replies=replies,
        report=opened.report,
        sections=labels.sections(opened),
        thread=messages.thread(opened),
        files=evidence.files(opened),
        likely=duplicates.likely(found),
        likely_days=duplicates.LIKELY_DAYS,
        reporter_labels=REPORTER_ROLE_LABELS,
        strand_labels=STRAND_LABELS,
        kind_labels=KIND_LABELS,
        linked=duplicates.linked(found),
        notes=casework.notes(user, key, opened, found),
        timeline=casework.timeline(found),
        event_labels=EVENT_LABELS,
        outcome_labels=OUTCOME_LABELS,
        status_labels=REFERRAL_STATUS_LABELS,
    )
    db.session.commit()  # the audit event of the view
    return page


@bp.get("/referrals/<int:referral_id>")
@needs(Permission.WORK_REFERRALS)
def referral(referral_id: int):
    """One referral, decrypted with the member's keys (and audited)."""
    return _referral_page(*_case(referral_id))


def _done(referral_id: int, said, news: int | None = None):
    """Commit an action, queue the reporter's news e-mail (after the commit; the
    sweeper catches a miss), say what was done, and show the referral again."""
    db.session.commit()
    if news is not None:
        queue.enqueue_notification(news)
    flash(said)
    return redirect(url_for("triage.referral", referral_id=referral_id))


@bp.post("/referrals/<int:referral_id>/message")
@needs(Permission.WORK_REFERRALS)
def message(referral_id: int):
    user, key, found = _case(referral_id)
    form = MessageForm()
    if not form.validate():
        return _referral_page(user, key, found, form)
    news = casework.message_reporter(user, _open(user, key, found), found, form.body.data)
    return _done(referral_id, _l("Your message has been sent."), news)


@bp.post("/referrals/<int:referral_id>/assign")
@needs(Permission.WORK_REFERRALS)
def assign(referral_id: int):
    user, key, found = _case(referral_id)
    form = AssignForm()
    chosen = form.assignee.data or ""  # empty: nobody
    if (chosen and row_id(chosen) is None) or not casework.assign(user, found, row_id(chosen)):
        db.session.rollback()
        form.assignee.errors = [_l("Select a colleague from the list")]
        return _referral_page(user, key, found, form)
    return _done(referral_id, _l("Assigned."))


@bp.post("/referrals/<int:referral_id>/close")
@needs(Permission.WORK_REFERRALS)
def close(referral_id: int):
    user, key, found = _case(referral_id)
    form = CloseForm()
    if not form.validate():
        return _referral_page(user, key, found, form)
    news = casework.close(user, found, form.outcome.data)
    return _done(referral_id, _l("The referral is closed."), news)


@bp.post("/referrals/<int:referral_id>/keep")
@needs(Permission.WORK_REFERRALS)
def keep(referral_id: int):
    """Whether a non-crime incident's record is kept past the short period, and why."""
    user, key, found = _case(referral_id)
    form = KeepForm()
    if not form.validate():
        return _referral_page(user, key, found, form)
    reason = None if form.reason.data == "none" else form.reason.data
    casework.keep(user, found, reason)
    said = (
        _l("Saved: the record is kept.") if reason else _l("Saved: the record is erased when the short period is over.")
    )
    return _done(referral_id, said)


@bp.post("/referrals/<int:referral_id>/acknowledge")
@needs(Permission.WORK_REFERRALS)
def acknowledge(referral_id: int):
    user, _key, found = _case(referral_id)
    news = casework.acknowledge(user, found)
    if news is not None:
        said = _l(
            "Acknowledged. The reporter asked for news emails: they will get one (at most one a day). "
            "It says only that there is news."
        )
        return _done(referral_id, said, news)
    return _done(referral_id, _l("Acknowledged."))


@bp.get("/")
@needs(Permission.WORK_REFERRALS)
def inbox():
    """The referrals of the member's own partner: filters on facets, sorting
    and pages, all in SQL; nothing is decrypted to list them."""
    user, _key = staff.member()
    form = listing.filter_form(request.args, REFERRAL_STATUS_LABELS)
    page = page_number(request.args)
    rows, total = listing.page_of(user, form, page)
    pages = max(-(-total // listing.PAGE_SIZE), 1)
    args = {f.name: f.data for f in form if f.data}
    return render_template(
        "triage/inbox.html",
        user=user,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=form,
        form=None,
        page_url=lambda n: url_for("triage.inbox", page=n, **args),
        badge=listing.badge,
        status_labels=REFERRAL_STATUS_LABELS,
    )


@bp.post("/referrals/<int:referral_id>/note")
@needs(Permission.WORK_REFERRALS)
def note(referral_id: int):
    user, key, found = _case(referral_id)
    form = NoteForm()
    opened = _open(user, key, found)
    if not form.validate():
        return _referral_page(user, key, found, form, opened)
    casework.add_note(user, key, opened, found, form.note.data)
    return _done(referral_id, _l("Your note has been added. Only your organisation can read it."))


def _question_text(form: AskForm) -> str:
    """The message a reporter reads: the ticked questions, then the officer's own words."""
    asked = [str(ASK_LABELS[q]) for q in form.questions.data or []]
    extra = (form.extra.data or "").strip()
    return "\n\n".join([*asked, *([extra] if extra else [])])


@bp.post("/referrals/<int:referral_id>/ask")
@needs(Permission.WORK_REFERRALS)
def ask(referral_id: int):
    user, key, found = _case(referral_id)
    form = AskForm()
    opened = _open(user, key, found)
    if not form.validate():
        return _referral_page(user, key, found, form, opened)
    news = casework.ask(user, opened, found, _question_text(form))
    return _done(
        referral_id, _l("Your questions have been sent. The reporter reads them with their receipt code."), news
    )


@bp.post("/referrals/<int:referral_id>/refer")
@needs(Permission.WORK_REFERRALS)
def refer(referral_id: int):
    user, key, found = _case(referral_id)
    form = ReferOnForm()
    opened = _open(user, key, found)
    chosen = form.partner.data or ""
    try:
        news = casework.refer_on(user, opened, found, row_id(chosen)) if row_id(chosen) else None
    except vault.VaultError:
        _cannot_open(user, found, "sealed content altered")
    except casework.NotPinned:
        db.session.rollback()
        form.partner.errors = [
            _l(
                "This organisation’s key has not been confirmed by an administrator yet, so nothing was sent. Ask an administrator to confirm it."
            )
        ]
        return _referral_page(user, key, found, form)
    if news is None:
        db.session.rollback()
        form.partner.errors = [_l("Select an organisation from the list")]
        return _referral_page(user, key, found, form)
    return _done(referral_id, _l("The report has been referred on. They have been told a referral is waiting."), news)


@bp.get("/referrals/<int:referral_id>/files/<int:attachment_id>")
@needs(Permission.WORK_REFERRALS)
def evidence_file(referral_id: int, attachment_id: int):
    """A file's pictures, drawn from the stored (screened, re-encoded) copy in
    a bounded process: the browser never renders the file itself."""
    user, key, found = _case(referral_id)
    opened = _open(user, key, found)
    shown = casework.open_file(user, opened, found, attachment_id, "previewed")
    if shown is None:
        abort(404)
    db.session.commit()  # the audit event, before drawing: no transaction waits on the child
    preview = previews.render_preview(shown.data, max_pages=PREVIEW_PAGES)
    pages = [f"data:image/png;base64,{base64.b64encode(png).decode()}" for png in preview.images] if preview else []
    return render_template(
        "triage/file.html",
        form=None,
        referral=found,
        report=opened.report,
        attachment_id=attachment_id,
        file=shown,
        pages=pages,
        total=preview.pages if preview else 0,
    )


@bp.get("/referrals/<int:referral_id>/files/<int:attachment_id>/download")
@needs(Permission.WORK_REFERRALS)
def download(referral_id: int, attachment_id: int):
    """The stored copy, only ever as a download: never shown in the browser,
    never sniffed, and sandboxed if something opens it anyway."""
    user, key, found = _case(referral_id)
    shown = casework.open_file(user, _open(user, key, found), found, attachment_id, "downloaded")
    if shown is None:
        abort(404)
    db.session.commit()
    response = send_file(
        io.BytesIO(shown.data), mimetype=shown.content_type, as_attachment=True, download_name=shown.filename
    )
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _linking(referral_id: int, change, said):
    user, _key, found = _case(referral_id)
    other = LinkForm().other.data or ""
    if row_id(other) is None or not change(user, found, row_id(other)):
        db.session.rollback()
        abort(404)  # not this partner's referral: the same answer as none at all
    return _done(referral_id, said)


@bp.post("/referrals/<int:referral_id>/link")
@needs(Permission.WORK_REFERRALS)
def link(referral_id: int):
    return _linking(referral_id, duplicates.link, _l("The reports are linked as the same incident."))


@bp.post("/referrals/<int:referral_id>/unlink")
@needs(Permission.WORK_REFERRALS)
def unlink(referral_id: int):
    return _linking(referral_id, duplicates.unlink, _l("The reports are no longer linked."))
