"""Follow-up with the receipt code: status, messages, more information."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovTextInput
from wtforms import StringField
from wtforms.validators import InputRequired

from ..crypto import vault
from ..domain import casework, consent, intake, messages, notices, queue
from ..domain.limits import FOLLOWUP_IDLE, FOLLOWUP_MAX, MAX_FILE_BYTES, MAX_FILES_PER_REPORT, megabytes, minutes
from ..extensions import db, rate_limit
from ..models import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    Attachment,
    MessageDirection,
    Partner,
    ReportStatus,
    utcnow,
)
from ..web import sessions
from ..web.forms import ConfirmForm, clean_text, honeypot, submit_button, text
from ..web.security import csrf_failed_page
from ..web.sessions import FOLLOWUP
from ..web.uploads import UploadRejected, read_upload

bp = Blueprint("followup", __name__, template_folder="templates", url_prefix="/follow-up")


@bp.context_processor
def _limits():
    return {"idle_minutes": minutes(FOLLOWUP_IDLE)}


STATUS_HELP = {
    ReportStatus.RECEIVED: _l(
        "Your report is stored safely and is waiting to be passed to the organisations you agreed to."
    ),
    ReportStatus.ROUTED: _l(
        "Your report has been passed to the organisations that can help. Someone will look at it soon."
    ),
    ReportStatus.IN_PROGRESS: _l("Someone is working on your report. They may send you a message here."),
    ReportStatus.CLOSED: _l("The organisations have finished their work on your report. You can still send a message."),
}


NOBODY_READS = _l(
    "You stopped sharing your report with every organisation that had it, so nobody can read it or new "
    "messages about it. If you want help after all, make a new report or use one of the other ways to report."
)


class ReceiptForm(FlaskForm):
    code = StringField(
        _l("Receipt code"),
        filters=[clean_text],
        widget=GovTextInput(),
        description=_l("20 numbers, for example 1234-5678-9012-3456-7890"),
        validators=[InputRequired(message=_l("Enter your receipt code"))],
    )
    unsent = text(_l("Your message (not sent yet)"), 5000, area=True)  # kept when the session ran out
    website = honeypot()
    submit = submit_button()


class ReplyForm(FlaskForm):
    body = text(
        _l("Send a message or add information"),
        5000,
        area=True,
        required=_l("Enter your message"),
        short=_l("Your message"),
        hint=_l("Only the organisations handling your report can read it."),
    )
    file = FileField(
        _l("Add a file (optional)"),
        widget=GovFileInput(),
        description=_l("A photo, screenshot or PDF, smaller than %(mb)d MB.", mb=megabytes(MAX_FILE_BYTES)),
    )
    submit = submit_button(_l("Send"))


def _opened() -> intake.OpenedReport | None:
    """The report this browser unlocked with its receipt code, for a short while.

    The report's data key is sealed on the server with a key only this
    browser's cookie holds: a copied cookie alone opens nothing, and signing
    out deletes the server half at once. The server half expires a fixed time
    after the code was entered, however active the person is; the idle clock
    is kept in the signed cookie, so reading the page writes nothing."""
    held = _held()
    if not held:
        return None
    return _unlocked(held)


def _opened_or_sign_in() -> intake.OpenedReport:
    """The report this browser unlocked, still there; otherwise the sign-in page."""
    opened = _opened()
    if opened is None or opened.report is None:
        abort(redirect(url_for("followup.sign_in")))
    return opened


def _unlocked(held: dict) -> intake.OpenedReport | None:
    """The report the session holds, while its shred key lasts (None once erased)."""
    try:
        return intake.open_locked(held["report_id"], base64.b64decode(held["locked"]))
    except (vault.VaultError, KeyError):
        return None


def _held() -> dict:
    return sessions.load(FOLLOWUP, idle=FOLLOWUP_IDLE)


def _session_ended(message: str | None = None):
    """The follow-up session ended (or the page's session cookie ran out) while
    a message was being written: the sign-in page, with the message kept on it."""
    form = ReceiptForm(formdata=None, unsent=message)
    return render_template("followup/sign_in.html", form=form, ended=True)


@bp.route("/", methods=["GET", "POST"])
@rate_limit("followup_sign_in")
def sign_in():
    form = ReceiptForm()
    if form.validate_on_submit():
        g.spam = bool(form.website.data)  # a bot's guess spends nothing of people's budget
        opened = None if g.spam else intake.open_with_receipt(form.code.data)
        if opened is None and vault.normalise_receipt_code(form.code.data) is None:
            # The same work was done (open_with_receipt), so the time taken tells nothing either way.
            form.code.errors = [_l("Receipt codes are 20 numbers, for example 1234-5678-9012-3456-7890")]
        elif opened is None:
            # One answer for every failure of a well-formed code: a wrong code and a missing report look alike.
            form.code.errors = [_l("We could not find a report with that receipt code. Check the code and try again")]
        else:
            sessions.discard(FOLLOWUP)
            held = {"report_id": opened.report_id, "locked": base64.b64encode(opened.locked).decode()}
            held["until"] = (utcnow() + FOLLOWUP_MAX).isoformat()
            if form.unsent.data:
                held["unsent"] = form.unsent.data  # sealed with the session, shown again to send
            sessions.save(FOLLOWUP, held, FOLLOWUP_MAX)
            db.session.commit()
            return redirect(url_for("followup.report"))
    return render_template("followup/sign_in.html", form=form, ended=bool(form.unsent.data))


_UNOPENED = _l("This could not be opened.")


def _messages(opened: intake.OpenedReport) -> list[dict]:
    """The thread, with a placeholder for whatever would not open (a file's
    fingerprints are shown only with its name)."""
    return [
        {
            **m,
            "body": m["body"] if m["body"] is not None else str(_UNOPENED),
            "files": [f if f.filename is not None else {"filename": str(_UNOPENED)} for f in m["files"]],
        }
        for m in messages.thread(opened)
    ]


def _attachment_count(report_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Attachment).where(Attachment.report_id == report_id)
    )


@bp.route("/report", methods=["GET", "POST"])
@rate_limit("followup_message")
def report():
    held = _held()
    opened = _unlocked(held) if held else None
    if opened is None:
        if request.method == "POST" and (request.form.get("body") or "").strip():
            return _session_ended(request.form["body"])
        return redirect(url_for("followup.sign_in"))
    form = ReplyForm()
    if form.validate_on_submit():
        upload = request.files.get("file")
        evidence = None
        if upload is not None and upload.filename:
            if _attachment_count(opened.report_id) >= MAX_FILES_PER_REPORT:
                form.file.errors = [
                    _l(
                        "Your report already has %(count)d files, the most we can take. Describe anything "
                        "else in your message.",
                        count=MAX_FILES_PER_REPORT,
                    )
                ]
            else:
                try:
                    evidence = read_upload(upload)
                except UploadRejected as exc:
                    form.file.errors = [str(exc)]
        if not form.file.errors:
            try:
                messages.add_message(opened, form.body.data, MessageDirection.FROM_REPORTER, evidence)
                if "unsent" in held:
                    _keep(held, unsent=None)
                db.session.commit()
            except sa.exc.IntegrityError as exc:
                db.session.rollback()
                if opened.report is None:  # erased while this session was open
                    sessions.discard(FOLLOWUP)
                    db.session.commit()
                    return redirect(url_for("followup.sign_in"))
                current_app.logger.error("reporter message not stored (%s)", type(exc).__name__)
                form.body.errors = [_l("Your message could not be sent just now. It is still here: please try again.")]
            else:
                return redirect(url_for("followup.report", sent=1))
    if opened.report is None:  # erased since the code was entered
        return redirect(url_for("followup.sign_in"))
    unsent = held.get("unsent") if request.method == "GET" else None
    if unsent:
        form.body.data = unsent
    holders = consent.holders(opened.report_id)
    nobody_reads = bool(holders) and all(h.withdrawn_at for h in holders)  # every organisation was stopped
    return render_template(
        "followup/report.html",
        form=form,
        report=opened.report,
        status=STATUS_LABELS[opened.report.status],
        status_help=NOBODY_READS if nobody_reads else STATUS_HELP[opened.report.status],
        nobody_reads=nobody_reads,
        centre=db.session.get(Partner, opened.report.centre_partner_id) if opened.report.centre_partner_id else None,
        holders=holders,
        withdrawn=next(
            (h.name for h in holders if h.withdrawn_at and str(h.partner_id) == request.args.get("withdrawn")), None
        ),
        narrowed=request.args.get("narrowed"),
        news_stopped=request.args.get("news_stopped"),
        news_form=ConfirmForm(formdata=None),
        timeline=casework.reporter_timeline(opened.report),
        outcomes=OUTCOME_LABELS,
        messages=_messages(opened),
        sent=request.args.get("sent"),
        unsent=bool(unsent),
        ends_at=datetime.fromisoformat(held["until"]) if "until" in held else None,
    )


@bp.route("/sharing/<int:partner_id>", methods=["GET", "POST"])
@rate_limit("followup_message")
def stop_sharing(partner_id: int):
    """Stop one organisation seeing the report: what it means first, then the button."""
    opened = _opened_or_sign_in()
    holder = consent.holder(opened.report_id, partner_id)
    if holder is None:  # withdrawn already, or never had it
        return redirect(url_for("followup.report") + "#sharing")
    form = ConfirmForm()
    if form.validate_on_submit():
        to_send = consent.withdraw(opened.report, partner_id, by="reporter")
        db.session.commit()
        for notification_id in to_send:
            queue.enqueue_notification(notification_id)
        return redirect(url_for("followup.report", withdrawn=partner_id))  # the top: where it says so
    return render_template(
        "consent/stop_sharing.html",
        **consent.what_it_means(opened.report, holder),
        form=form,
        back=url_for("followup.report"),
    )


@bp.post("/news/stop")
@rate_limit("followup_message")
def stop_news():
    """Stop the "there is news" e-mails: the address is erased at once."""
    opened = _opened_or_sign_in()
    if ConfirmForm().validate_on_submit():
        notices.forget_news_address(opened.report, "asked")
        db.session.commit()
    return redirect(url_for("followup.report", news_stopped=1))


@bp.route("/sharing/no-more", methods=["GET", "POST"])
@rate_limit("followup_message")
def stop_passing_on():
    """No more organisations: the report is not passed on to anyone new."""
    opened = _opened_or_sign_in()
    form = ConfirmForm()
    if form.validate_on_submit():
        changed = consent.stop_passing_on(opened.report, by="reporter")
        db.session.commit()
        return redirect(url_for("followup.report", narrowed=1 if changed else None))
    return render_template("consent/no_more.html", form=form, report=opened.report, back=url_for("followup.report"))


def _keep(held: dict, **changes) -> None:
    """Change what the follow-up session holds, within its fixed lifetime."""
    held = {k: v for k, v in {**held, **changes}.items() if v is not None}
    left = datetime.fromisoformat(held["until"]) - utcnow() if "until" in held else FOLLOWUP_MAX
    sessions.save(FOLLOWUP, held, max(left, timedelta(seconds=1)))


@bp.errorhandler(CSRFError)
def _page_open_too_long(error: CSRFError):
    """The session cookie ran out while a message was being written: keep it."""
    if request.endpoint == "followup.report" and (request.form.get("body") or "").strip():
        return _session_ended(request.form["body"])
    return csrf_failed_page()


@bp.post("/sign-out")
def sign_out():
    sessions.discard(FOLLOWUP)
    db.session.commit()
    return redirect(url_for("reporting.start"))
