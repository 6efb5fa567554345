"""Routing rules, for system administrators: the list in the order they are
tried, adding and changing one, moving it, switching it off and on, and a
preview of who would receive a report (what the public pages say).

Every change is audited and committed once, at the end of its request.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..domain import audit, facets
from ..domain import rules as routing
from ..domain.permissions import Permission
from ..extensions import db
from ..models import Area, Partner, PartnerKind, RoutingRule, RuleError
from ..web import staff
from ..web.forms import row_id
from ..web.staff import needs
from . import bp
from .rule_forms import FACET_LABELS, FLAGS, VALUE_LABELS, PreviewForm, RuleForm, rule_data

RECENT_DAYS = 90


def _areas() -> list[Area]:
    return list(db.session.scalars(sa.select(Area).order_by(Area.sort_order, Area.name)))


def _universities() -> list[Partner]:
    return list(db.session.scalars(sa.select(Partner).where(Partner.serves_students).order_by(Partner.name)))


def _names() -> dict[str, dict[str, str]]:
    """The words for every value a rule can name, areas and universities included."""
    return {
        **VALUE_LABELS,
        "area": {a.slug: a.name for a in _areas()},
        "student_at": {p.slug: p.name for p in _universities()},
    }


def describe(conditions: dict, names: dict) -> list[str]:
    """A rule's conditions in plain words, one line per facet tested."""
    lines = []
    for name, wanted in conditions.items():
        if name in FLAGS:
            value = _("yes") if wanted else _("no")
        else:
            values = wanted if isinstance(wanted, list) else [wanted]
            value = "; ".join(str(names[name].get(v, v)) for v in values)
        lines.append(_("%(facet)s: %(value)s", facet=FACET_LABELS[name], value=value))
    return lines


@bp.get("/rules")
@needs(Permission.SYSTEM_ADMIN)
def rules():
    partners = {p.id: p for p in db.session.scalars(sa.select(Partner))}
    names = _names()
    rows = [
        {"rule": rule, "partner": partners[rule.partner_id], "when": describe(rule.conditions, names)}
        for rule in routing.in_order()
    ]
    default = next((p for p in partners.values() if p.is_default_triage and p.active), None)
    return render_template("admin/rules.html", form=None, rows=rows, default=default)


def _with_choices(form: RuleForm, rule: RoutingRule | None) -> RuleForm:
    """The organisations, areas and universities to choose from. Reporting
    centres receive no referrals on the staff side, so they are not offered.
    A value the rule already names that is no longer offered (an area made
    with the CLI, say) is kept as a choice, so saving the form never drops it."""
    receivers = sa.select(Partner).where(Partner.active, Partner.kind != PartnerKind.CENTRE).order_by(Partner.name)
    form.partner.choices = [("", _l("Choose an organisation"))] + [
        (str(p.id), p.name) for p in db.session.scalars(receivers)
    ]
    for name, offered in (("area", _areas()), ("student_at", _universities())):
        choices = [(item.slug, item.name) for item in offered]
        saved = (rule.conditions.get(name) if rule else None) or []
        known = {slug for slug, _name in choices}
        form[name].choices = choices + [
            (v, v) for v in (saved if isinstance(saved, list) else [saved]) if v not in known
        ]
    return form


def _edit(rule: RoutingRule | None):
    user, _key = staff.member()
    form = _with_choices(RuleForm(data=rule_data(rule) if rule else None), rule)
    if form.validate_on_submit():
        action = "rule.edited"
        if rule is None:
            rule = RoutingRule(priority=routing.next_priority())
            db.session.add(rule)
            action = "rule.added"
        was = rule.partner_id
        rule.name = form.name.data
        rule.partner_id = int(form.partner.data)
        rule.conditions = form.conditions
        db.session.flush()
        moved_from = {"was_partner_id": was} if was not in (None, rule.partner_id) else {}
        audit.record(action, actor_id=user.id, partner_id=rule.partner_id, rule_id=rule.id, **moved_from)
        db.session.commit()
        flash(_l("The rule ‘%(name)s’ has been saved.", name=rule.name))
        return redirect(url_for("admin.rules"))
    return render_template("admin/rule.html", form=form, rule=rule)


@bp.route("/rules/new", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def rule_new():
    return _edit(None)


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@needs(Permission.SYSTEM_ADMIN)
def rule_edit(rule_id: int):
    return _edit(db.get_or_404(RoutingRule, rule_id))


def _switch(rule_id: int, enabled: bool):
    user, _key = staff.member()
    rule = db.get_or_404(RoutingRule, rule_id)
    if rule.enabled != enabled:  # pressing twice changes nothing the second time
        rule.enabled = enabled
        action = "rule.enabled" if enabled else "rule.disabled"
        audit.record(action, actor_id=user.id, partner_id=rule.partner_id, rule_id=rule.id)
        db.session.commit()
        flash(
            _l("The rule ‘%(name)s’ is on.", name=rule.name)
            if enabled
            else _l("The rule ‘%(name)s’ is off.", name=rule.name)
        )
    return redirect(url_for("admin.rules"))


@bp.post("/rules/<int:rule_id>/on")
@needs(Permission.SYSTEM_ADMIN)
def rule_on(rule_id: int):
    return _switch(rule_id, True)


@bp.post("/rules/<int:rule_id>/off")
@needs(Permission.SYSTEM_ADMIN)
def rule_off(rule_id: int):
    return _switch(rule_id, False)


def _move(rule_id: int, step: int):
    user, _key = staff.member()
    rule = db.get_or_404(RoutingRule, rule_id)
    place = routing.move(rule, step)
    if place is not None:
        audit.record("rule.moved", actor_id=user.id, partner_id=rule.partner_id, rule_id=rule.id, place=place)
        db.session.commit()
    return redirect(url_for("admin.rules", _anchor=f"rule-{rule.id}"))


@bp.post("/rules/<int:rule_id>/up")
@needs(Permission.SYSTEM_ADMIN)
def rule_up(rule_id: int):
    return _move(rule_id, -1)


@bp.post("/rules/<int:rule_id>/down")
@needs(Permission.SYSTEM_ADMIN)
def rule_down(rule_id: int):
    return _move(rule_id, +1)


@bp.get("/rules/preview")
@needs(Permission.SYSTEM_ADMIN)
def rule_preview():
    """Who would receive a report with these answers, worked out as the
    public pages work it out; and, for a rule, how many recent reports it
    matches. Reads facets only and writes nothing."""
    submitted = "show" in request.args
    form = PreviewForm(formdata=request.args if submitted else None)
    form.area.choices = [("", _l("Not known"))] + [(a.slug, a.name) for a in _areas()]
    form.student_at.choices = [("", _l("Not a student at a partner university"))] + [
        (p.slug, p.name) for p in _universities()
    ]
    partners = None
    if submitted and form.validate():
        partners = facets.who_will_see(facets.preview_report(form.answers()))
    rule_id = row_id(request.args.get("rule"))
    rule = db.session.get(RoutingRule, rule_id) if rule_id else None
    matched = None
    if rule is not None:
        try:
            matched = routing.recent_matches(rule.conditions, RECENT_DAYS)
        except RuleError:  # a row changed behind the application's back: routing skips it too
            matched = None
    return render_template(
        "admin/rule_preview.html", form=form, partners=partners, rule=rule, matched=matched, days=RECENT_DAYS
    )
