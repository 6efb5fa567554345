"""Staff accounts. A system administrator adds members, changes their role,
switches them off and resets a lost account (a new key pair: nothing the old
one could open comes with it). A partner administrator gives their own
organisation's members access to its reports, by wrapping the partner key
(which only their own signed-in session holds) to the member's public key,
after the member has read out its fingerprint: the row holding that key is
one the web tier could have written."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput
from wtforms import BooleanField, HiddenField
from wtforms.validators import ValidationError

from ..domain import accounts, audit, casework, pins
from ..domain.accounts import ROLES_FOR
from ..domain.permissions import Permission
from ..extensions import db
from ..models import ROLE_LABELS, Partner, StaffRole, StaffUser
from ..web import staff
from ..web.forms import ChoiceField, ListField, check_email, row_id, submit_button, text
from ..web.staff import needs
from . import bp


class UserForm(FlaskForm):
    name = text(_l("Full name"), 200, required=_l("Enter their full name"), short=_l("Full name"))
    email = text(_l("Email address"), 254, required=_l("Enter their email address"), hint=_l("They sign in with it."))
    partner = ListField(_l("Organisation"), [], _l("Select their organisation"))
    role = ChoiceField(_l("Role"), [(r.value, label) for r, label in ROLE_LABELS.items()], _l("Select their role"))
    active = BooleanField(_l("They can sign in"), default=True, widget=GovCheckboxInput())
    save = submit_button(_l("Save"))

    def validate_email(self, field):
        check_email(field)
        taken = db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == (field.data or "").lower()))
        if taken is not None and taken != getattr(self, "user_id", None):
            raise ValidationError(_l("Someone already signs in with this email address"))

    def validate_role(self, field):
        partner = db.session.get(Partner, row_id(self.partner.data)) if row_id(self.partner.data) else None
        if partner is not None and StaffRole(field.data) not in ROLES_FOR[partner.kind]:
            raise ValidationError(_l("Reporting centre staff work only at a reporting centre, and only they do"))


class GrantForm(FlaskForm):
    shown = HiddenField()  # the fingerprint on the page: the key wrapped to must still be that one
    matches = BooleanField(_l("They read out the same fingerprint"), widget=GovCheckboxInput())
    grant = submit_button(_l("Give access"))

    def validate_matches(self, field):
        if not field.data:
            raise ValidationError(_l("Check the fingerprint with them first, then tick the box"))


def _user_form(user: StaffUser | None = None) -> UserForm:
    form = (
        UserForm(obj=None)
        if user is None
        else UserForm(
            data={
                "name": user.display_name,
                "email": user.email,
                "partner": str(user.partner_id),
                "role": user.role.value,
                "active": user.active,
            }
        )
    )
    form.partner.choices = [("", _l("Choose an organisation"))] + [
        (str(p.id), p.name) for p in db.session.scalars(sa.select(Partner).order_by(Partner.name))
    ]
    form.user_id = user.id if user else None
    return form


@bp.get("/users")
@needs(Permission.SYSTEM_ADMIN)
def users():
    rows = db.session.execute(
        sa.select(StaffUser, Partner.name)
        .join(Partner, Partner.id == StaffUser.partner_id)
        .order_by(Partner.name, StaffUser.display_name)
    ).all()
    return render_template("admin/users.html", form=None, rows=rows, role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def new_user():
    admin, _key = staff.member()
    form = _user_form()
    if form.validate_on_submit():
        partner = db.session.get(Partner, int(form.partner.data))
        password = accounts.temporary_password()
        created = accounts.create_user(
            form.email.data, form.name.data, partner, StaffRole(form.role.data), password, by=admin
        )
        db.session.commit()
        return _password_once(created, password, new=True)
    return render_template("admin/user_form.html", form=form, member=None)


def _password_once(member: StaffUser, password: str, *, new: bool):
    return render_template(
        "admin/password_once.html",
        form=None,
        member=member,
        password=password,
        new=new,
        needs_grant=accounts.needs_grant(member),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def edit_user(user_id: int):
    admin, _key = staff.member()
    member = db.get_or_404(StaffUser, user_id)
    form = _user_form(member)  # on a post, what was sent replaces the saved values
    if form.validate_on_submit():
        if member.id == admin.id and (form.role.data != member.role.value or not form.active.data):
            form.role.errors = [_l("You cannot take away your own administrator role or switch yourself off")]
        elif int(form.partner.data) != member.partner_id:
            form.partner.errors = [_l("A member cannot move to another organisation: add a new account there")]
        else:
            changed = (StaffRole(form.role.data), form.active.data) != (member.role, member.active)
            member.display_name, member.email = form.name.data, form.email.data.lower()
            member.role, member.active = StaffRole(form.role.data), form.active.data
            if changed:  # a key given for one role is never kept for another, nor while switched off
                accounts.revoke_all(member)
                if member.active and not member.must_change_password:
                    accounts.ask_for_access(member)
            audit.record("user.edited", actor_id=admin.id, partner_id=member.partner_id, user_id=member.id)
            db.session.commit()
            flash(_l("%(name)s’s account has been saved.", name=member.display_name))
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, member=member)


@bp.route("/users/<int:user_id>/reset", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def reset_user(user_id: int):
    admin, _key = staff.member()
    member = db.get_or_404(StaffUser, user_id)
    form = FlaskForm()
    if form.validate_on_submit():
        password = accounts.reset(member, by=admin)
        db.session.commit()
        return _password_once(member, password, new=False)
    return render_template("admin/reset.html", form=None, member=member)


# --- a partner administrator: their own organisation's members ----------------


def _own_member(admin: StaffUser, user_id: int) -> StaffUser:
    member = db.session.get(StaffUser, user_id)
    if member is None or member.partner_id != admin.partner_id or member.role == StaffRole.CENTRE:
        abort(404)  # another organisation's member looks the same as nobody
    return member


@bp.get("/members")
@needs(Permission.PARTNER_ADMIN)
def members():
    admin, _key = staff.member()
    rows = [
        (m, accounts.has_grant(m), accounts.may_be_granted(m))
        for m in db.session.scalars(
            sa.select(StaffUser)
            .where(StaffUser.partner_id == admin.partner_id, StaffUser.role != StaffRole.CENTRE)
            .order_by(StaffUser.display_name)
        )
    ]
    return render_template("admin/members.html", form=None, rows=rows, admin=admin, role_labels=ROLE_LABELS)


@bp.route("/members/<int:user_id>/grant", methods=["GET", "POST"])
@needs(Permission.PARTNER_ADMIN)
def grant(user_id: int):
    admin, key = staff.member()
    member = _own_member(admin, user_id)
    if not accounts.may_be_granted(member):
        abort(404)  # switched off, not a role that reads reports, or their password is not their own yet
    fingerprint = pins.fingerprint(member.public_key)
    form = GrantForm(shown=fingerprint)
    if form.validate_on_submit():
        try:
            partner_key = casework.partner_key(admin, key)
        except casework.CaseworkError:
            partner_key = None
            form.matches.errors = [
                _l("Your own account has no access to your organisation’s key, so you cannot give it")
            ]
        if form.shown.data != fingerprint:  # the row changed between the page and the post
            form.matches.errors = [_l("Their key has changed since this page was shown. Check the fingerprint again")]
            form.shown.data = fingerprint
        elif partner_key is not None:
            accounts.grant(admin.partner, partner_key, member, granted_by=admin)
            db.session.commit()
            flash(_l("%(name)s can now open your organisation’s reports.", name=member.display_name))
            return redirect(url_for("admin.members"))
    return render_template("admin/grant.html", form=form, member=member, fingerprint=fingerprint)


@bp.post("/members/<int:user_id>/revoke")
@needs(Permission.PARTNER_ADMIN)
def revoke(user_id: int):
    admin, _key = staff.member()
    member = _own_member(admin, user_id)
    if member.id == admin.id:
        flash(_l("You cannot take away your own access. Ask another administrator."))
    elif accounts.revoke(admin.partner, member, by=admin):
        flash(_l("%(name)s can no longer open your organisation’s reports.", name=member.display_name))
    db.session.commit()
    return redirect(url_for("admin.members"))
