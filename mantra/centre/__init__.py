"""Third-party reporting centres: staff sign in and report for someone."""
from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from .. import accounts, audit, vault
from ..extensions import db, rate_limit
from ..models import PartnerKind, Report, StaffRole, StaffUser, utcnow
from ..reporting.drafts import DRAFT, FOLLOWUP, discard_draft
from ..reporting.forms import _submit, clean_text
from ..security import safe_next

bp = Blueprint("centre", __name__, template_folder="templates", url_prefix="/centre")

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_SECONDS = 30 * 60  # centre computers are often shared


class SignInForm(FlaskForm):
    email = StringField(_l("Email address"), widget=GovTextInput(), filters=[clean_text],
                        validators=[InputRequired(message=_l("Enter your email address")), Length(max=254)])
    password = PasswordField(_l("Password"), widget=GovPasswordInput(),
                             validators=[InputRequired(message=_l("Enter your password"))])
    submit = _submit(_l("Sign in"))


@bp.before_app_request
def _load_centre_user():
    g.centre_user = None
    user_id = session.get("centre_user_id")
    if user_id and session.get("centre_seen", 0) + IDLE_SECONDS < time.time():
        _end_session()
        return
    if user_id:
        session["centre_seen"] = time.time()
        user = db.session.get(StaffUser, user_id)
        if user and user.active and user.partner.kind == PartnerKind.CENTRE:
            g.centre_user = user


def _locked(user: StaffUser) -> bool:
    until = user.locked_until
    if until is None:
        return False
    if until.tzinfo is None:
        until = until.replace(tzinfo=utcnow().tzinfo)
    return until > utcnow()


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limit("centre_sign_in")
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == form.email.data.strip().lower()))
        ok = not_centre = False
        if user is not None and user.active and not _locked(user):
            try:
                accounts.unlock_user_key(user, form.password.data)
                ok = user.role == StaffRole.CENTRE and user.partner.kind == PartnerKind.CENTRE
                not_centre = not ok
            except vault.WrongPassword:
                user.failed_sign_ins += 1
                if user.failed_sign_ins >= LOCK_AFTER:
                    user.locked_until = utcnow() + LOCK_FOR
                    user.failed_sign_ins = 0
        else:
            # Unknown, locked or inactive: spend the same Argon2id time, so timing tells nothing.
            vault.ARGON2.derive(form.password.data.encode(), b"\0" * 16, 32)
        if ok:
            user.failed_sign_ins = 0
            session.clear()
            session["centre_user_id"] = user.id
            session["centre_seen"] = time.time()
            audit.record("centre.signed_in", actor_id=user.id, partner_id=user.partner_id)
            db.session.commit()
            return redirect(safe_next(request.args.get("next"), url_for("centre.submissions")))
        db.session.commit()
        if not_centre:  # the right password: say why, rather than call it wrong
            audit.record("centre.sign_in_refused", actor_id=user.id, partner_id=user.partner_id, reason="not_centre")
            db.session.commit()
            form.email.errors = [_l("This is not a reporting-centre account. Partner staff will sign in to their own workspace")]
        else:
            form.password.errors = [_l("The email address or password is wrong, or the account is locked for 15 minutes after 5 wrong attempts")]
    return render_template("centre/sign_in.html", form=form)


def _end_session() -> None:
    """Sign out, deleting the server half of anything this browser had open."""
    discard_draft(DRAFT)
    discard_draft(FOLLOWUP)
    session.clear()


@bp.post("/sign-out")
def sign_out():
    _end_session()
    return redirect(url_for("reporting.start"))


@bp.get("/submissions")
def submissions():
    user = g.centre_user
    if user is None:
        return redirect(url_for("centre.sign_in", next=request.path))
    reports = db.session.scalars(
        sa.select(Report).where(Report.centre_partner_id == user.partner_id).order_by(Report.submitted_at.desc())
    ).all()
    from ..followup import STATUS_LABELS

    return render_template("centre/submissions.html", user=user, reports=reports, status_labels=STATUS_LABELS)
