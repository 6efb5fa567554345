"""Partner staff: sign in with two factors, then the referral inbox (staff host).

Sign-in is DESIGN flow 3. The password unlocks the user's key; the second
factor (an authenticator code, or a one-time recovery code) is checked with
that key. Only then is the key kept, sealed in a server-side session whose key
only this browser's cookie holds, until sign-out, 30 idle minutes or 10 hours.
Between the two steps the unlocked key waits the same way, for 5 minutes.
"""

from __future__ import annotations

import base64

import segno
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovTextInput
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..crypto import vault
from ..domain import audit, casework, messages, queue, signin, twofactor
from ..domain.limits import LOCK_AFTER, LOCK_FOR, STAFF_IDLE, STAFF_MAX, TWO_FACTOR_WAIT, minutes
from ..extensions import db, rate_limit
from ..models import PartnerKind, ReferralStatus, StaffRole, StaffUser
from ..web import sessions
from ..web.forms import ChoiceField, ListField, StaffSignInForm, clean_text, submit_button, text
from . import labels, listing

bp = Blueprint("triage", __name__, template_folder="templates", url_prefix="/triage")

PENDING = "staff_pending"  # the password was right: the unlocked key waits for the second factor
TRIAGE = "triage"  # signed in with both factors
STAFF_ROLES = (StaffRole.TRIAGE, StaffRole.COORDINATOR, StaffRole.ADMIN)


class CodeForm(FlaskForm):
    code = StringField(
        _l("Security code"),
        widget=GovTextInput(),
        filters=[clean_text],
        description=_l("The 6-digit code from your authenticator app, or one of your recovery codes."),
        validators=[InputRequired(message=_l("Enter the security code")), Length(max=20)],
    )
    submit = submit_button(_l("Sign in"))


REFERRAL_STATUS_LABELS = {
    ReferralStatus.NEW: _l("New"),
    ReferralStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ReferralStatus.IN_PROGRESS: _l("In progress"),
    ReferralStatus.REFERRED_ON: _l("Referred on"),
    ReferralStatus.CLOSED: _l("Closed"),
}


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        widget=GovPasswordInput(),
        validators=[InputRequired(message=_l("Enter your current password"))],
    )
    new = PasswordField(
        _l("New password"),
        widget=GovPasswordInput(),
        description=_l("At least %(count)d characters. A few unrelated words make a strong password.", count=12),
        validators=[
            InputRequired(message=_l("Enter a new password")),
            Length(min=12, max=200, message=_l("The new password must be between 12 and 200 characters")),
        ],
    )
    submit = submit_button(_l("Change password"))

    def validate_new(self, field):
        if field.data == self.current.data:
            raise ValidationError(_l("The new password must be different from the current one"))


WRONG = _l(
    "The email address or password is wrong, or the account is locked for %(minutes)d minutes after %(count)d "
    "wrong attempts",
    minutes=minutes(LOCK_FOR),
    count=LOCK_AFTER,
)
WRONG_CODE = _l(
    "That code is wrong or has been used already. Wait for a new code and try again; after %(count)d wrong "
    "attempts the account is locked for %(minutes)d minutes",
    count=LOCK_AFTER,
    minutes=minutes(LOCK_FOR),
)


def _key_text(key: vault.PrivateKey) -> str:
    return base64.b64encode(key.seed).decode()


def _held(slot: str, idle=None) -> tuple[StaffUser, vault.PrivateKey] | None:
    held = sessions.load(slot, idle=idle)
    if not held:
        return None
    user = db.session.get(StaffUser, held.get("user_id"))
    if user is None or not user.active or user.role not in STAFF_ROLES or user.partner.kind == PartnerKind.CENTRE:
        return None
    return user, vault.PrivateKey(base64.b64decode(held["key"]))


@bp.before_request
def _load_staff():
    """The signed-in member and their unlocked key, or None (idle, revoked or
    expired: the cookie lets go of the session, writing nothing)."""
    g.staff = _held(TRIAGE, idle=STAFF_IDLE) if session.get(TRIAGE) else None
    if g.staff is None and session.get(TRIAGE):
        sessions.forget(TRIAGE)


def _member() -> tuple[StaffUser, vault.PrivateKey]:
    """The signed-in member and their unlocked key; otherwise on to sign in."""
    if g.staff is None:
        abort(redirect(url_for("triage.sign_in", next=request.path)))
    return g.staff


def _discard_all() -> None:
    for slot in (PENDING, TRIAGE):
        sessions.discard(slot)


@bp.route("/sign-in", methods=["GET", "POST"])
@rate_limit("staff_sign_in")
def sign_in():
    form = StaffSignInForm()
    form.submit.label.text = _l("Continue")  # the second factor comes next
    if form.validate_on_submit():
        signed_in = signin.check_password(form.email.data, form.password.data)
        user = signed_in.user if signed_in else None
        if user is not None and user.role in STAFF_ROLES and user.partner.kind != PartnerKind.CENTRE:
            _discard_all()
            sessions.save(PENDING, {"user_id": user.id, "key": _key_text(signed_in.user_key)}, TWO_FACTOR_WAIT)
            db.session.commit()
            step = "triage.enrol" if user.totp_secret_sealed is None else "triage.second_factor"
            return redirect(url_for(step))
        if user is not None:  # the right password, not a partner member's: the same answer as any failure
            audit.record("staff.sign_in_refused", actor_id=user.id, partner_id=user.partner_id, reason="role")
        form.password.errors = [WRONG]
        db.session.commit()  # the failed attempt counts towards the lockout
    return render_template("triage/sign_in.html", form=form)


def _pending():
    held = _held(PENDING)
    if held is None:
        flash(
            _l(
                "For your security, the second step must follow the password within %(minutes)d minutes. "
                "Please sign in again.",
                minutes=minutes(TWO_FACTOR_WAIT),
            )
        )
    return held


def _complete(user: StaffUser, key: vault.PrivateKey, how: str):
    sessions.discard(PENDING)
    sessions.save(TRIAGE, {"user_id": user.id, "key": _key_text(key)}, STAFF_MAX)  # never extended
    audit.record("staff.signed_in", actor_id=user.id, partner_id=user.partner_id, second_factor=how)
    db.session.commit()


@bp.route("/sign-in/code", methods=["GET", "POST"])
@rate_limit("staff_sign_in")
def second_factor():
    held = _pending()
    if held is None:
        return redirect(url_for("triage.sign_in"))
    user, key = held
    if user.totp_secret_sealed is None:
        return redirect(url_for("triage.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        if signin.is_locked(user):
            form.code.errors = [WRONG_CODE]
        elif twofactor.check_code(user, key, form.code.data):
            _complete(user, key, "code")
            left = twofactor.recovery_codes_left(user)
            if left < 3:
                flash(
                    _l(
                        "You have %(count)d recovery codes left. Make new ones from the link at the foot of your inbox.",
                        count=left,
                    )
                )
            return redirect(url_for("triage.inbox"))
        else:
            signin.count_failure(user.id)
            audit.record("staff.second_factor_refused", actor_id=user.id, partner_id=user.partner_id)
            db.session.commit()
            form.code.errors = [WRONG_CODE]
    return render_template("triage/code.html", form=form)


def _qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG, drawn on the server: no script, no other origin."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#0b0c0c", light="#ffffff")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1)
    return Markup(svg)  # noqa: S704 (segno's own markup, no user text in it)


@bp.route("/enrol", methods=["GET", "POST"])
@rate_limit("staff_sign_in")
def enrol():
    """First sign-in: add an authenticator app. The new secret waits, sealed
    with the pending sign-in, until a code from it proves the app has it."""
    held = _pending()
    if held is None:
        return redirect(url_for("triage.sign_in"))
    user, key = held
    if user.totp_secret_sealed is not None:
        return redirect(url_for("triage.second_factor"))
    pending = sessions.load(PENDING)
    secret = pending.get("new_secret")
    if secret is None:  # the first view: a new secret, kept with the pending sign-in
        secret = twofactor.new_secret()
        sessions.save(PENDING, {**pending, "new_secret": secret}, TWO_FACTOR_WAIT)
        db.session.commit()
    form = CodeForm()
    if form.validate_on_submit():
        codes = twofactor.enrol(user, secret, form.code.data)
        if codes is None:
            form.code.errors = [
                _l("That code is wrong. Check the time on your phone, wait for a new code and try again")
            ]
        else:
            audit.record("staff.two_factor_enrolled", actor_id=user.id, partner_id=user.partner_id)
            _complete(user, key, "enrolment")
            return render_template("triage/recovery_codes.html", codes=codes, form=None)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template(
        "triage/enrol.html", form=form, qr=_qr_svg(twofactor.provisioning_uri(user, secret)), secret=grouped
    )


EVENT_LABELS = {
    "report.submitted": _l("Report received"),
    "report.routed": _l("Sent to the organisations chosen by the routing rules"),
    "report.message.from_reporter": _l("Message from the reporter"),
    "report.message.to_reporter": _l("Message to the reporter"),
    "referral.acknowledged": _l("Acknowledged"),
    "referral.assigned": _l("Assigned"),
    "referral.closed": _l("Closed"),
}

OUTCOME_LABELS = {
    "support_given": _l("Support given"),
    "passed_to_police": _l("Passed to the police"),
    "investigated": _l("Investigated"),
    "no_further_action": _l("No further action"),
    "could_not_contact": _l("Could not contact the reporter"),
    "support_declined": _l("Support offered and declined"),
    "referred_elsewhere": _l("Referred to another service"),
}


class MessageForm(FlaskForm):
    body = text(
        _l("Message to the reporter"),
        5000,
        area=True,
        required=_l("Enter your message"),
        hint=_l(
            "They read it when they sign in with their receipt code. If they asked for news emails, they get one "
            "saying only that there is news."
        ),
        short=_l("Your message"),
    )
    send = submit_button(_l("Send message"))


class AssignForm(FlaskForm):
    assignee = ListField(_l("Assigned to"), [])
    assign = submit_button(_l("Assign"))


class CloseForm(FlaskForm):
    outcome = ChoiceField(_l("Outcome"), list(OUTCOME_LABELS.items()), _l("Select the outcome"))
    close = submit_button(_l("Close the referral"))


def _case(referral_id: int):
    """The signed-in member, their key and their own partner's referral."""
    user, key = _member()
    found = casework.referral_for(user, referral_id)
    if found is None:
        abort(404)  # another partner's looks the same as none at all
    return user, key, found


def _open(user, key, found):
    """The report behind the referral, opened with the member's keys (audited);
    keys that do not open it get a plain page, never content."""
    try:
        return casework.open_referral(user, key, found)
    except casework.CaseworkError as exc:
        current_app.logger.error("referral %s would not open for user %s: %s", found.id, user.id, exc)
        db.session.rollback()
        abort(make_response(render_template("triage/cannot_open.html", form=None), 409))


def _referral_page(user, key, found, *, message=None, assign=None, close=None):
    opened = _open(user, key, found)
    errors = message or assign or close
    assign = assign or AssignForm(formdata=None, assignee=str(found.assigned_to_id or ""))
    assign.assignee.choices = [("", _l("Nobody"))] + [(str(c.id), c.display_name) for c in casework.colleagues(user)]
    page = render_template(
        "triage/referral.html",
        form=errors,  # the form with errors, for the error summary
        message_form=message or MessageForm(formdata=None),
        assign_form=assign,
        close_form=close or CloseForm(formdata=None),
        referral=found,
        report=opened.report,
        sections=labels.sections(opened),
        thread=messages.thread(opened),
        timeline=casework.timeline(found),
        event_labels=EVENT_LABELS,
        outcome_labels=OUTCOME_LABELS,
        status_labels=REFERRAL_STATUS_LABELS,
    )
    db.session.commit()  # the audit event of the view
    return page


@bp.get("/referrals/<int:referral_id>")
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
def message(referral_id: int):
    user, key, found = _case(referral_id)
    form = MessageForm()
    if not form.validate():
        return _referral_page(user, key, found, message=form)
    news = casework.message_reporter(user, _open(user, key, found), found, form.body.data)
    return _done(referral_id, _l("Your message has been sent."), news)


@bp.post("/referrals/<int:referral_id>/assign")
def assign(referral_id: int):
    user, key, found = _case(referral_id)
    form = AssignForm()
    chosen = form.assignee.data
    if not casework.assign(user, found, int(chosen) if chosen and chosen.isdigit() else None):
        db.session.rollback()
        form.assignee.errors = [_l("Select a colleague from the list")]
        return _referral_page(user, key, found, assign=form)
    return _done(referral_id, _l("Assigned."))


@bp.post("/referrals/<int:referral_id>/close")
def close(referral_id: int):
    user, key, found = _case(referral_id)
    form = CloseForm()
    if not form.validate():
        return _referral_page(user, key, found, close=form)
    news = casework.close(user, found, form.outcome.data)
    return _done(referral_id, _l("The referral is closed."), news)


@bp.post("/referrals/<int:referral_id>/acknowledge")
def acknowledge(referral_id: int):
    user, _key, found = _case(referral_id)
    news = casework.acknowledge(user, found)
    if news is not None:
        flash(_l("Acknowledged."))
        return _done(
            referral_id,
            _l("The reporter asked for news emails: one is on its way. It says only that there is news."),
            news,
        )
    return _done(referral_id, _l("Acknowledged."))


@bp.route("/recovery-codes", methods=["GET", "POST"])
def recovery_codes():
    """New recovery codes (the old ones stop working), for a member signed in with both factors."""
    user, _key = _member()
    if request.method == "POST":
        codes = twofactor.new_recovery_codes(user)
        audit.record("staff.recovery_codes_renewed", actor_id=user.id, partner_id=user.partner_id)
        db.session.commit()
        return render_template("triage/recovery_codes.html", codes=codes, form=None)
    return render_template("triage/renew_codes.html", left=twofactor.recovery_codes_left(user), form=None)


@bp.route("/password", methods=["GET", "POST"])
@rate_limit("staff_sign_in")
def change_password():
    """A new password protects the same user key: grants and reports stay readable."""
    user, key = _member()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            checked = vault.unlock_with_password(user.password_protected_key, form.current.data)
        except vault.WrongPassword:
            checked = None
        if checked is None or checked.public.raw != key.public.raw:
            signin.count_failure(user.id)
            db.session.commit()
            form.current.errors = [_l("Your current password is wrong")]
        else:
            user.password_protected_key = vault.protect_with_password(key, form.new.data)
            audit.record("staff.password_changed", actor_id=user.id, partner_id=user.partner_id)
            db.session.commit()
            flash(_l("Your password has been changed. Use the new one next time you sign in."))
            return redirect(url_for("triage.inbox"))
    return render_template("triage/password.html", form=form)


@bp.post("/sign-out")
def sign_out():
    if g.staff is not None:
        audit.record("staff.signed_out", actor_id=g.staff[0].id, partner_id=g.staff[0].partner_id)
    _discard_all()
    db.session.commit()
    flash(_l("You have signed out. Your key is no longer held anywhere."))
    return redirect(url_for("triage.sign_in"))


@bp.get("/")
def inbox():
    """The referrals of the member's own partner: filters on facets, sorting
    and pages, all in SQL; nothing is decrypted to list them."""
    user, _key = _member()
    form = listing.filter_form(request.args, REFERRAL_STATUS_LABELS)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
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
