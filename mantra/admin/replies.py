"""A partner administrator keeps their organisation's reply templates: short
first messages (thanks, we will call, support on offer) that members start
from on a referral page and change before sending."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..domain import audit, casework
from ..domain.permissions import Permission
from ..extensions import db
from ..models import ReplyTemplate
from ..web import staff
from ..web.forms import ConfirmForm, submit_button, text
from ..web.staff import needs
from . import bp

MAX_TEMPLATES = 30  # a short list members can scan


class ReplyTemplateForm(FlaskForm):
    title = text(
        _l("Name"),
        80,
        required=_l("Enter a name for the template"),
        hint=_l("Members choose a template by this name, for example ‘First contact’."),
    )
    body = text(
        _l("Message"),
        2000,
        area=True,
        required=_l("Enter the message"),
        hint=_l("Plain words the reporter will understand. Members can change it before they send it."),
    )
    save = submit_button(_l("Save template"))


def _own(admin, template_id: int) -> ReplyTemplate:
    found = db.session.get(ReplyTemplate, template_id)
    if found is None or found.partner_id != admin.partner_id:
        abort(404)  # another organisation's looks the same as none
    return found


@bp.get("/replies")
@needs(Permission.PARTNER_ADMIN)
def replies():
    admin, _key = staff.member()
    return render_template(
        "admin/replies.html",
        form=None,
        admin=admin,
        templates=casework.reply_templates(admin.partner_id),
        delete_form=ConfirmForm(formdata=None),
        full=len(casework.reply_templates(admin.partner_id)) >= MAX_TEMPLATES,
    )


@bp.route("/replies/new", methods=["GET", "POST"])
@needs(Permission.PARTNER_ADMIN)
def new_reply():
    admin, _key = staff.member()
    return _reply_page(admin, None)


@bp.route("/replies/<int:template_id>", methods=["GET", "POST"])
@needs(Permission.PARTNER_ADMIN)
def reply(template_id: int):
    admin, _key = staff.member()
    return _reply_page(admin, _own(admin, template_id))


def _reply_page(admin, found: ReplyTemplate | None):
    """Add a template (found is None) or change one; a name used twice is refused."""
    form = ReplyTemplateForm(obj=found)
    if form.validate_on_submit():
        if found is None and len(casework.reply_templates(admin.partner_id)) >= MAX_TEMPLATES:
            form.title.errors = [
                _l("You have %(count)d templates, the most there can be. Change or delete one.", count=MAX_TEMPLATES)
            ]
        else:
            saved = found or ReplyTemplate(partner_id=admin.partner_id)
            saved.title, saved.body = form.title.data, form.body.data
            db.session.add(saved)
            try:
                db.session.flush()  # the name is unique per partner: a clash (or a double submit) is refused here
            except sa.exc.IntegrityError:
                db.session.rollback()
                form.title.errors = [_l("Your organisation already has a template with this name")]
            else:
                audit.record(
                    "reply_template.saved", actor_id=admin.id, partner_id=admin.partner_id, template_id=saved.id
                )
                db.session.commit()
                flash(_l("The template ‘%(title)s’ has been saved.", title=saved.title))
                return redirect(url_for("admin.replies"))
    return render_template("admin/reply.html", form=form, found=found, back=url_for("admin.replies"))


@bp.post("/replies/<int:template_id>/delete")
@needs(Permission.PARTNER_ADMIN)
def delete_reply(template_id: int):
    admin, _key = staff.member()
    found = _own(admin, template_id)
    if ConfirmForm().validate_on_submit():
        db.session.delete(found)
        audit.record("reply_template.deleted", actor_id=admin.id, partner_id=admin.partner_id, template_id=template_id)
        db.session.commit()
        flash(_l("The template ‘%(title)s’ has been deleted.", title=found.title))
    return redirect(url_for("admin.replies"))
