"""Third-party reporting centres: staff sign in and report for someone."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from ..crypto import vault
from ..domain import accounts, audit, consent, queue, signin
from ..domain.limits import CENTRE_IDLE, CENTRE_MAX, LOCK_AFTER, LOCK_FOR, minutes
from ..extensions import db, rate_limit
from ..models import STATUS_LABELS, PartnerKind, Report, StaffRole, StaffUser
from ..web import sessions
from ..web.forms import ConfirmForm, PasswordForm, StaffSignInForm
from ..web.security import safe_next

bp = Blueprint("centre", __name__, template_folder="templates", url_prefix="/centre")


def _signed_out_while_away() -> None:
    """Idle on a shared computer, revoked or expired: signed out, writing
    nothing. A report being written is kept (sealed, cookie-held) only for the
    same member signing in again; anyone else who signs in starts clean, and the
    public journey will not open it."""
    session["centre_away"] = session.pop("centre_member", None)
    sessions.forget(sessions.STAFF)
    sessions.forget(sessions.FOLLOWUP)


def _discard_browser() -> None:
    """Delete everything this browser had open on the server, and clear its cookie."""
    for slot in (sessions.DRAFT, sessions.FOLLOWUP, sessions.STAFF):
        sessions.discard(slot)
    session.clear()


@bp.before_app_request
def _load_centre_user():
    """The signed-in centre member, from a sealed server-side session: a copy of
    the cookie opens nothing after sign-out (the row is gone) or after the
    session's absolute lifetime, and idling out signs out (cookie only)."""
    g.centre_user = None
    if session.get(sessions.STAFF) is None:
        return
    user_id = sessions.load(sessions.STAFF, idle=CENTRE_IDLE).get("user_id")
    if user_id is None:
        _signed_out_while_away()
        return
    user = db.session.get(StaffUser, user_id)
    if user and user.active and user.partner.kind == PartnerKind.CENTRE:
        g.centre_user = user


@bp.before_app_request
def _own_password_first():
    """A password an administrator chose must be replaced before anything else
    (the reporting pages included): until then only this and signing out."""
    user = g.get("centre_user")
    if user is not None and user.must_change_password and request.endpoint not in OWN_PASSWORD_PAGES:
        return redirect(url_for("centre.change_password"))
    return None


OWN_PASSWORD_PAGES = {"centre.change_password", "centre.sign_out", "static", "language"}


@bp.app_context_processor
def _centre_member():
    """Who is signed in on a centre's computer: every page says so, with Sign out."""
    return {"centre_member": g.get("centre_user")}


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limit("centre_sign_in")
def sign_in():
    form = StaffSignInForm()
    if form.validate_on_submit():
        signed_in = signin.check_password(form.email.data, form.password.data)
        user = signed_in.user if signed_in else None
        if user is not None and user.role == StaffRole.CENTRE and user.partner.kind == PartnerKind.CENTRE:
            if session.get("centre_away") == user.id:  # back after a timeout: carry on with the report
                sessions.discard(sessions.FOLLOWUP)
                sessions.discard(sessions.STAFF)
                session.pop("centre_away")
            else:
                _discard_browser()  # nothing of whoever used this browser before
            session["centre_member"] = user.id
            sessions.save(sessions.STAFF, {"user_id": user.id}, CENTRE_MAX)  # never extended: an absolute limit
            audit.record("centre.signed_in", actor_id=user.id, partner_id=user.partner_id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("centre.submissions")))
        if user is not None:  # the right password, not a centre's: the same answer as any failure
            audit.record("centre.sign_in_refused", actor_id=user.id, partner_id=user.partner_id, reason="not_centre")
        form.password.errors = [
            _l(
                "The email address or password is wrong, or the account is locked for "
                "%(minutes)d minutes after %(count)d wrong attempts",
                minutes=minutes(LOCK_FOR),
                count=LOCK_AFTER,
            )
        ]
        db.session.commit()  # the failed attempt counts towards the lockout
    from_journey = safe_next(request.args.get("next"), "").startswith("/report/")
    return render_template("centre/sign_in.html", form=form, from_journey=from_journey)


@bp.post("/sign-out")
def sign_out():
    """Sign out, deleting the server half of anything this browser had open."""
    _discard_browser()  # the staff session's row goes too: a copied cookie opens nothing
    db.session.commit()
    flash(_l("You have signed out. Nothing you entered on this computer can be opened from it now."))
    return redirect(url_for("centre.sign_in"))


@bp.route("/password", methods=["GET", "POST"])
@rate_limit("centre_sign_in")
def change_password():
    """Choose a password of one's own (and with it a key pair of one's own)."""
    user = g.centre_user
    if user is None:
        return redirect(url_for("centre.sign_in", next=request.path))
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(user, form.current.data, form.new.data)
        except vault.WrongPassword:
            signin.count_failure(user.id)
            db.session.commit()
            form.current.errors = [_l("Your current password is wrong")]
        else:
            db.session.commit()
            flash(_l("Your password has been changed. Use the new one next time you sign in."))
            return redirect(url_for("centre.submissions"))
    return render_template("centre/password.html", form=form, must_change=user.must_change_password)


@bp.get("/submissions")
def submissions():
    user = g.centre_user
    if user is None:
        return redirect(url_for("centre.sign_in", next=request.path))
    reports = db.session.scalars(
        sa.select(Report).where(Report.centre_partner_id == user.partner_id).order_by(Report.submitted_at.desc())
    ).all()
    return render_template("centre/submissions.html", user=user, reports=reports, status_labels=STATUS_LABELS)


def _centre_report(report_id: int) -> tuple[StaffUser, Report]:
    """The signed-in member and a report their centre made. Signed out: the
    sign-in page; another centre's report looks the same as none (404)."""
    user = g.centre_user
    if user is None:
        abort(redirect(url_for("centre.sign_in", next=request.path)))
    report = db.session.get(Report, report_id)
    if report is None or report.centre_partner_id != user.partner_id:
        abort(404)
    return user, report


@bp.get("/reports/<int:report_id>/sharing")
def sharing(report_id: int):
    """Who can see a report the centre made, to change on the person's behalf."""
    _user, report = _centre_report(report_id)
    return render_template(
        "centre/sharing.html",
        report=report,
        holders=consent.holders(report_id),
        withdrawn=request.args.get("withdrawn"),
        narrowed=request.args.get("narrowed"),
    )


@bp.route("/reports/<int:report_id>/sharing/<int:partner_id>", methods=["GET", "POST"])
def stop_sharing(report_id: int, partner_id: int):
    """Stop one organisation seeing the report, for the person who asked the centre to."""
    user, report = _centre_report(report_id)
    holder = consent.holder(report_id, partner_id)
    back = url_for("centre.sharing", report_id=report_id)
    if holder is None:
        return redirect(back)
    form = ConfirmForm()
    if form.validate_on_submit():
        to_send = consent.withdraw(report, partner_id, by="centre", actor_id=user.id)
        db.session.commit()
        for notification_id in to_send:
            queue.enqueue_notification(notification_id)
        return redirect(url_for("centre.sharing", report_id=report_id, withdrawn=1))
    return render_template("consent/stop_sharing.html", **consent.what_it_means(report, holder), form=form, back=back)


@bp.route("/reports/<int:report_id>/sharing/no-more", methods=["GET", "POST"])
def stop_passing_on(report_id: int):
    user, report = _centre_report(report_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        changed = consent.stop_passing_on(report, by="centre", actor_id=user.id)
        db.session.commit()
        return redirect(url_for("centre.sharing", report_id=report_id, narrowed=1 if changed else None))
    back = url_for("centre.sharing", report_id=report_id)
    return render_template("consent/no_more.html", form=form, report=report, back=back)
