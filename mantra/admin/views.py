"""The administration pages: the start page and the audit trail."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from ..domain import audit
from ..domain.permissions import Permission, allowed, may
from ..extensions import db
from ..web import staff
from ..web.forms import page_number
from ..web.staff import needs
from . import bp

# The administration pages, each for whom it is for: (permission, endpoint, title, what it is for).
SECTIONS = (
    (
        Permission.PARTNER_ADMIN,
        "admin.members",
        _l("Your organisation’s members"),
        _l("Give a member access to your organisation’s reports, or take it away"),
    ),
    (
        Permission.PARTNER_ADMIN,
        "admin.replies",
        _l("Reply templates"),
        _l("Short first messages your members can start from when they write to a reporter"),
    ),
    (Permission.SYSTEM_ADMIN, "admin.users", _l("Users"), _l("Add staff, change their role, reset a lost account")),
    (
        Permission.SYSTEM_ADMIN,
        "admin.partners",
        _l("Partners"),
        _l("Organisations, their deadlines, contacts and duty leads"),
    ),
    (Permission.SYSTEM_ADMIN, "admin.areas", _l("Areas"), _l("The parts of the city people choose from")),
    (Permission.SYSTEM_ADMIN, "admin.rules", _l("Routing rules"), _l("Which organisations receive which reports")),
    (
        Permission.PARTNER_ADMIN,
        "admin.audit_trail",
        _l("Audit trail"),
        _l("Who did what, and when, in your organisation"),
    ),
    (
        Permission.SYSTEM_ADMIN,
        "admin.audit_trail",
        _l("Audit trail"),
        _l("Who did what, and when, across the partnership"),
    ),
)


@bp.get("/")
@needs(Permission.PARTNER_ADMIN, Permission.SYSTEM_ADMIN)
def index():
    user, _key = staff.member()
    can, shown = allowed(user), {}
    for permission, endpoint, title, hint in SECTIONS:
        if permission in can and endpoint in current_app.view_functions:
            shown.setdefault(endpoint, (endpoint, title, hint))
    return render_template("admin/index.html", form=None, sections=list(shown.values()))


@bp.get("/audit")
@needs(Permission.PARTNER_ADMIN, Permission.SYSTEM_ADMIN)
def audit_trail():
    """The trail, newest first: a partner administrator sees their own
    organisation's; a system administrator sees everyone's and can check the chain."""
    user, _key = staff.member()
    system = may(user, Permission.SYSTEM_ADMIN)
    action = request.args.get("action") or None
    reference = (request.args.get("reference") or "").strip().upper() or None
    number = page_number(request.args)
    rows, total = audit.page(None if system else user.partner_id, action=action, reference=reference, number=number)
    pages = max(-(-total // audit.PAGE_SIZE), 1)
    args = {k: v for k, v in (("action", action), ("reference", reference)) if v}
    return render_template(
        "admin/audit.html",
        form=None,
        rows=rows,
        total=total,
        page=number,
        pages=pages,
        page_url=lambda n: url_for("admin.audit_trail", page=n, **args),
        actions=audit.actions(None if system else user.partner_id),
        chosen=action,
        reference=reference or "",
        system=system,
        scope=None if system else user.partner.name,
    )


@bp.post("/audit/verify")
@needs(Permission.SYSTEM_ADMIN)
def audit_verify():
    """Chain what is ready, then walk the whole chain and say whether it holds."""
    user, _key = staff.member()
    audit.chain()
    try:
        count, head, pending = audit.verify()
        result = {"intact": True, "count": count, "head": head.hex(), "pending": pending}
    except audit.Broken as exc:
        result = {"intact": False, "where": str(exc)}
    audit.record("audit.verified", actor_id=user.id, partner_id=user.partner_id, intact=result["intact"])
    db.session.commit()
    return render_template("admin/verified.html", form=None, result=result)
