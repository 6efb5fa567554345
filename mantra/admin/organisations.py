"""Partners and areas: the partnership's set-up, for system administrators.

A partner's key pair is made here, but its private half leaves this request
only wrapped to the recovery key (members get it later by grants). Its public
half and whether it is the police are pinned on the worker with the CLI, so
these pages cannot change either: a change made only in the database would
hold that partner's reports, not send them somewhere else.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..domain import accounts, audit, pins
from ..domain.permissions import Permission
from ..extensions import db
from ..models import Area, AreaKind, Partner, PartnerKind
from ..web import staff
from ..web.staff import needs
from . import bp
from .forms import AREA_KIND_LABELS, PARTNER_KIND_LABELS, AreaForm, NewPartnerForm, PartnerForm, hours

# --- partners ------------------------------------------------------------------


def deadlines_text(partner: Partner) -> str:
    """Like "1 working day / 2 hours when urgent", counted as deadlines.ack_due counts them."""
    normal = partner.ack_sla_hours
    if normal % 24 == 0:
        usual = ngettext("%(num)d working day", "%(num)d working days", normal // 24)
    else:
        usual = ngettext("%(num)d hour on working days", "%(num)d hours on working days", normal)
    urgent = ngettext("%(num)d hour when urgent", "%(num)d hours when urgent", partner.urgent_ack_sla_hours)
    return f"{usual} / {urgent}"


def key_state(partner: Partner, pinned: dict[int, str]) -> str:
    """pinned, changed (pinned, but the row's key or police status is not what was pinned) or not_pinned."""
    if pins.is_pinned(partner, pinned):
        return "pinned"
    return "changed" if partner.id in pinned else "not_pinned"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _name_taken(name: str, but: int | None = None) -> bool:
    same = sa.select(Partner.id).where(sa.func.lower(Partner.name) == name.lower(), Partner.id != (but or 0))
    return db.session.scalar(same) is not None


@bp.get("/partners")
@needs(Permission.SYSTEM_ADMIN)
def partners():
    pinned = pins.read()
    rows = [
        {"partner": p, "deadlines": deadlines_text(p), "key": key_state(p, pinned)}
        for p in db.session.scalars(sa.select(Partner).order_by(Partner.name))
    ]
    return render_template("admin/partners.html", form=None, rows=rows, kind_labels=PARTNER_KIND_LABELS)


def _edit_form(partner: Partner) -> PartnerForm:
    """The form as posted, or filled from the row. A centre neither serves
    students nor triages; the police never triage by default, because the
    default partner reads reports that did not consent to the police."""
    if request.method == "POST":
        form = PartnerForm()
    else:
        form = PartnerForm(
            data={
                "name": partner.name,
                "ack_sla_hours": str(partner.ack_sla_hours),
                "urgent_ack_sla_hours": str(partner.urgent_ack_sla_hours),
                "duty_email": partner.duty_email or "",
                "duty_lead_email": partner.duty_lead_email or "",
                "serves_students": _yes(partner.serves_students),
                "public_address": partner.public_address or "",
                "public_phone": partner.public_phone or "",
                "opening_hours": partner.opening_hours or "",
                "active": _yes(partner.active),
                "default_triage": _yes(partner.is_default_triage),
            }
        )
    if partner.kind == PartnerKind.CENTRE:
        del form.serves_students
    else:  # only a reporting centre is listed on the public pages
        del form.public_address, form.public_phone, form.opening_hours
    if partner.kind == PartnerKind.CENTRE or partner.is_police:
        del form.default_triage
        return form
    if partner.is_default_triage:
        form.default_triage.description = _l(
            "This is the default triage partner: it reads every report that no routing rule sends to anyone "
            "else. There is always exactly one. To hand this over, open the organisation that should take over "
            "and select yes there."
        )
    else:
        current = db.session.scalar(sa.select(Partner.name).where(Partner.is_default_triage))
        form.default_triage.description = _l(
            "The default triage partner reads every report that no routing rule sends to anyone else. There is "
            "always exactly one, now %(name)s. Selecting yes hands it over to this organisation.",
            name=current or _l("none"),
        )
    return form


def _default_triage_problems(form: PartnerForm, partner: Partner) -> None:
    """There is always exactly one default triage partner, and it is active."""
    if "default_triage" not in form:
        return
    if partner.is_default_triage and form.default_triage.data == "no":
        form.default_triage.errors.append(
            _l("There must be a default triage partner: open the organisation that should take over and select yes")
        )
    elif form.default_triage.data == "yes" and form.active.data == "no":
        form.active.errors.append(
            _l("The default triage partner must be active: choose another default triage partner first")
        )


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def partner(partner_id: int):
    user, _key = staff.member()
    partner = db.get_or_404(Partner, partner_id)
    form = _edit_form(partner)
    if request.method == "POST" and form.validate():
        if _name_taken(form.name.data, but=partner.id):
            form.name.errors.append(_l("Another partner already has this name"))
        _default_triage_problems(form, partner)
        if not any(f.errors for f in form):
            _save_partner(user, partner, form)
            db.session.commit()
            flash(_l("The changes to %(name)s are saved.", name=partner.name))
            return redirect(url_for("admin.partners"))
    return render_template(
        "admin/partner.html",
        form=form,
        partner=partner,
        kind_labels=PARTNER_KIND_LABELS,
        fingerprint=pins.fingerprint(partner.public_key),
        key=key_state(partner, pins.read()),
    )


def _save_partner(user, partner: Partner, form: PartnerForm) -> None:
    wanted = {
        "name": form.name.data,
        "ack_sla_hours": hours(form.ack_sla_hours),
        "urgent_ack_sla_hours": hours(form.urgent_ack_sla_hours),
        "duty_email": form.duty_email.data or None,
        "duty_lead_email": form.duty_lead_email.data or None,
        "active": form.active.data == "yes",
    }
    if "serves_students" in form:
        wanted["serves_students"] = form.serves_students.data == "yes"
    for name in ("public_address", "public_phone", "opening_hours"):
        if name in form:
            wanted[name] = form[name].data or None
    if "default_triage" in form and form.default_triage.data == "yes" and not partner.is_default_triage:
        wanted["is_default_triage"] = True
        # Choosing one clears the other, in the same transaction: never none, never two.
        # Every partner row is locked first, so two administrators choosing at once
        # take turns and the second clears the first's choice (PostgreSQL; SQLite
        # has one writer at a time anyway).
        db.session.execute(sa.select(Partner.id).with_for_update())
        for other in db.session.scalars(sa.select(Partner).where(Partner.is_default_triage)):
            other.is_default_triage = False
            audit.record("partner.edited", actor_id=user.id, partner_id=other.id, changed=["is_default_triage"])
    changed = [name for name, value in wanted.items() if getattr(partner, name) != value]
    for name in changed:
        setattr(partner, name, wanted[name])
    if changed:
        audit.record("partner.edited", actor_id=user.id, partner_id=partner.id, changed=changed)


@bp.route("/partners/new", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def partner_new():
    user, _key = staff.member()
    form = NewPartnerForm()
    if request.method == "POST" and form.validate():
        if db.session.scalar(sa.select(Partner.id).where(Partner.slug == form.slug.data)):
            form.slug.errors.append(_l("Another partner already has this short name"))
        if _name_taken(form.name.data):
            form.name.errors.append(_l("Another partner already has this name"))
        if not any(f.errors for f in form):
            try:
                # The private key is not kept: create_partner has wrapped it to the recovery key,
                # and the first member is given it from there (see the next steps page).
                partner, _ = accounts.create_partner(
                    form.slug.data,
                    form.name.data,
                    PartnerKind(form.kind.data),
                    by=user,
                    is_police=form.is_police.data == "yes",
                )
                db.session.commit()
            except sa.exc.IntegrityError:  # added by someone else a moment ago
                db.session.rollback()
                form.slug.errors.append(_l("Another partner already has this short name"))
            else:
                return redirect(url_for("admin.partner_next_steps", partner_id=partner.id))
    return render_template("admin/partner_new.html", form=form)


@bp.get("/partners/<int:partner_id>/next-steps")
@needs(Permission.SYSTEM_ADMIN)
def partner_next_steps(partner_id: int):
    """What to do on other machines before a new partner can receive reports."""
    partner = db.get_or_404(Partner, partner_id)
    return render_template(
        "admin/partner_next_steps.html",
        form=None,
        partner=partner,
        fingerprint=pins.fingerprint(partner.public_key),
        key=key_state(partner, pins.read()),
        role="centre" if partner.kind == PartnerKind.CENTRE else "partner_admin",
    )


# --- areas ---------------------------------------------------------------------


def _areas() -> list[Area]:
    return list(db.session.scalars(sa.select(Area).order_by(Area.sort_order, Area.name, Area.id)))


def slug_from(name: str) -> str:
    """A short name made from a name, "St Clement’s" -> "st-clements": plain letters, words joined by hyphens."""
    plain = unicodedata.normalize("NFKD", re.sub(r"['’]", "", name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:64].strip("-")


def _area_name_taken(name: str, but: int | None = None) -> bool:
    same = sa.select(Area.id).where(sa.func.lower(Area.name) == name.lower(), Area.id != (but or 0))
    return db.session.scalar(same) is not None


@bp.get("/areas")
@needs(Permission.SYSTEM_ADMIN)
def areas():
    return render_template("admin/areas.html", form=None, areas=_areas(), kind_labels=AREA_KIND_LABELS)


@bp.route("/areas/new", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def area_new():
    user, _key = staff.member()
    form = AreaForm()
    if request.method == "POST" and form.validate():
        slug = form.slug.data or slug_from(form.name.data)
        if not slug:
            form.slug.errors.append(_l("Enter a short name: one could not be made from the name"))
        elif db.session.scalar(sa.select(Area.id).where(Area.slug == slug)):
            form.slug.data = slug  # the one made from the name, to change
            form.slug.errors.append(_l("Another area already has this short name: enter a different one"))
        if _area_name_taken(form.name.data):
            form.name.errors.append(_l("Another area already has this name"))
        # The journey's "Online" and "Outside Oxford" answers each stand for one area.
        kind = AreaKind(form.kind.data)
        if kind != AreaKind.NEIGHBOURHOOD and db.session.scalar(sa.select(Area.id).where(Area.kind == kind)):
            form.kind.errors.append(_l("There is already an area of this kind: rename it instead"))
        if not any(f.errors for f in form):
            last = db.session.scalar(sa.select(sa.func.max(Area.sort_order)))
            area = Area(slug=slug, name=form.name.data, kind=kind, sort_order=(last or 0) + 1)
            try:
                db.session.add(area)
                db.session.flush()
                audit.record("area.added", actor_id=user.id, area_id=area.id, slug=slug)
                db.session.commit()
            except sa.exc.IntegrityError:  # added by someone else a moment ago
                db.session.rollback()
                form.slug.errors.append(_l("Another area already has this short name: enter a different one"))
            else:
                flash(_l("%(name)s is added, at the end of the list.", name=area.name))
                return redirect(url_for("admin.areas"))
    return render_template("admin/area.html", form=form, area=None, kind_labels=AREA_KIND_LABELS)


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def area(area_id: int):
    """Rename an area. Its short name and kind stay: routing rules and reports use them."""
    user, _key = staff.member()
    area = db.get_or_404(Area, area_id)
    form = AreaForm() if request.method == "POST" else AreaForm(data={"name": area.name})
    del form.slug, form.kind
    if request.method == "POST" and form.validate():
        if _area_name_taken(form.name.data, but=area.id):
            form.name.errors.append(_l("Another area already has this name"))
        else:
            if form.name.data != area.name:
                area.name = form.name.data
                audit.record("area.edited", actor_id=user.id, area_id=area.id, changed=["name"])
            db.session.commit()
            flash(_l("The area is now called %(name)s.", name=area.name))
            return redirect(url_for("admin.areas"))
    return render_template("admin/area.html", form=form, area=area, kind_labels=AREA_KIND_LABELS)


@bp.post("/areas/<int:area_id>/move")
@needs(Permission.SYSTEM_ADMIN)
def area_move(area_id: int):
    """Swap an area with the one above or below, then number them all again
    (0, 1, 2 ...), so equal or missing numbers from earlier set-ups go away."""
    user, _key = staff.member()
    area = db.get_or_404(Area, area_id)
    ordered = _areas()
    here = ordered.index(area)
    there = here + {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    if there != here and 0 <= there < len(ordered):
        ordered[here], ordered[there] = ordered[there], ordered[here]
        for number, each in enumerate(ordered):
            each.sort_order = number
        audit.record("area.moved", actor_id=user.id, area_id=area.id, direction=request.form["direction"])
        db.session.commit()
        flash(_l("%(name)s is moved.", name=area.name))
    return redirect(url_for("admin.areas") + f"#area-{area.id}")
