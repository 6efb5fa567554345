"""Staff sign-in with two factors, and the member's own account.

Sign-in is DESIGN flow 3. The password unlocks the user's key; the second
factor (an authenticator code, or a one-time recovery code) is checked with
that key. Only then is the key kept, sealed in a server-side session whose key
only this browser's cookie holds, until sign-out, 30 idle minutes or 10 hours.
Between the two steps the unlocked key waits the same way, for 5 minutes.
"""

from __future__ import annotations

import segno
from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from ..crypto import vault
from ..domain import accounts, audit, pins, signin, twofactor
from ..domain.limits import LOCK_AFTER, LOCK_FOR, STAFF_MAX, TWO_FACTOR_WAIT, minutes
from ..domain.permissions import Permission, allowed
from ..extensions import db, rate_limit
from ..models import StaffUser, utcnow
from ..web import sessions, staff
from ..web.forms import PasswordForm, StaffSignInForm
from ..web.security import safe_next
from ..web.staff import needs
from . import bp
from .forms import CodeForm

PENDING = "staff_pending"  # the password was right: the unlocked key waits for the second factor


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


def _discard_all() -> None:
    for slot in (PENDING, staff.SIGNED_IN):
        sessions.discard(slot)


@bp.route("/sign-in", methods=["GET", "POST"])
@needs(Permission.SIGN_IN)
@rate_limit("staff_sign_in")
def sign_in():
    form = StaffSignInForm()
    form.submit.label.text = _l("Continue")  # the second factor comes next
    if form.validate_on_submit():
        signed_in = signin.check_password(form.email.data, form.password.data)
        user = signed_in.user if signed_in else None
        if user is not None and Permission.OWN_ACCOUNT in allowed(user):
            _discard_all()
            back = safe_next(request.args.get("next"), "")  # a page of this site's own, never another site
            pending = {"user_id": user.id, "key": staff.key_text(signed_in.user_key)}
            sessions.save(PENDING, pending | ({"next": back} if back else {}), TWO_FACTOR_WAIT)
            db.session.commit()
            step = "triage.enrol" if user.totp_secret_sealed is None else "triage.second_factor"
            return redirect(url_for(step))
        if user is not None:  # the right password, not a partner member's: the same answer as any failure
            audit.record("staff.sign_in_refused", actor_id=user.id, partner_id=user.partner_id, reason="role")
        form.password.errors = [WRONG]
        db.session.commit()  # the failed attempt counts towards the lockout
    return render_template("triage/sign_in.html", form=form)


def _pending():
    held = staff.held(PENDING)
    if held is None:
        flash(
            _l(
                "For your security, the second step must follow the password within %(minutes)d minutes. "
                "Please sign in again.",
                minutes=minutes(TWO_FACTOR_WAIT),
            )
        )
    return held


def _complete(user: StaffUser, key: vault.PrivateKey, how: str) -> str:
    """Signed in with both factors: the key moves to the signed-in slot.
    Returns where to go next (the page they asked for, or their home)."""
    back = sessions.load(PENDING).get("next")
    sessions.discard(PENDING)
    until = (utcnow() + STAFF_MAX).isoformat()  # never extended: an absolute limit
    sessions.save(staff.SIGNED_IN, {"user_id": user.id, "key": staff.key_text(key), "until": until}, STAFF_MAX)
    audit.record("staff.signed_in", actor_id=user.id, partner_id=user.partner_id, second_factor=how)
    db.session.commit()
    return back if back and staff.may_open(user, back) else staff.home(user)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@needs(Permission.SIGN_IN)
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
            going = _complete(user, key, "code")
            left = twofactor.recovery_codes_left(user)
            if left < 3:
                flash(
                    _l(
                        "You have %(count)d recovery codes left. Make new ones from the Your account page.",
                        count=left,
                    )
                )
            return redirect(going)
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
@needs(Permission.SIGN_IN)
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
            going = _complete(user, key, "enrolment")
            return render_template("triage/recovery_codes.html", codes=codes, form=None, going=going)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template(
        "triage/enrol.html", form=form, qr=_qr_svg(twofactor.provisioning_uri(user, secret)), secret=grouped
    )


@bp.post("/keep-alive")
@needs(Permission.OWN_ACCOUNT)
def keep_alive():
    """'Stay on this page': the guard has read the session, which restarts
    its idle clock; answer with the seconds left (the fixed end does not move)."""
    left = staff.time_left()
    return jsonify(seconds=int(left.total_seconds()), warning=staff.warning(left))


@bp.get("/account")
@needs(Permission.OWN_ACCOUNT)
def account():
    """The member's own account: password, recovery codes, and what they may use."""
    user, _key = staff.member()
    return render_template("triage/account.html", user=user, form=None, fingerprint=pins.fingerprint(user.public_key))


@bp.route("/recovery-codes", methods=["GET", "POST"])
@needs(Permission.OWN_ACCOUNT)
def recovery_codes():
    """New recovery codes (the old ones stop working), for a member signed in with both factors."""
    user, _key = staff.member()
    if request.method == "POST":
        codes = twofactor.new_recovery_codes(user)
        audit.record("staff.recovery_codes_renewed", actor_id=user.id, partner_id=user.partner_id)
        db.session.commit()
        return render_template("triage/recovery_codes.html", codes=codes, form=None, going=staff.home(user))
    return render_template("triage/renew_codes.html", left=twofactor.recovery_codes_left(user), form=None)


@bp.route("/password", methods=["GET", "POST"])
@needs(Permission.OWN_ACCOUNT)
@rate_limit("staff_sign_in")
def change_password():
    """A new password protects the same user key: grants and reports stay
    readable. Replacing a password an administrator chose also replaces the key."""
    user, _key = staff.member()
    form = PasswordForm()
    if form.validate_on_submit():
        chosen_by_administrator = user.must_change_password
        try:
            new_key = accounts.change_password(user, form.current.data, form.new.data)
        except vault.WrongPassword:
            signin.count_failure(user.id)
            db.session.commit()
            form.current.errors = [_l("Your current password is wrong")]
        else:
            if chosen_by_administrator:
                staff.replace_key(new_key)
            db.session.commit()
            flash(
                _l(
                    "Your password has been changed. Use the new one next time you sign in. Your organisation’s "
                    "administrator has been asked to give you access to its reports."
                )
                if chosen_by_administrator and accounts.needs_grant(user)
                else _l("Your password has been changed. Use the new one next time you sign in.")
            )
            return redirect(staff.home(user))
    return render_template("triage/password.html", form=form)


@bp.post("/sign-out")
@needs(Permission.SIGN_IN)  # signing out must work whatever state the session is in
def sign_out():
    if g.staff is not None:
        audit.record("staff.signed_out", actor_id=g.staff[0].id, partner_id=g.staff[0].partner_id)
    _discard_all()
    db.session.commit()
    flash(_l("You have signed out. Your key is no longer held anywhere."))
    return redirect(url_for("triage.sign_in"))
