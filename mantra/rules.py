"""Routing rules: conditions on facets only, evaluated without decrypting.

The routing job (a later issue) uses `recipients`; the public journey uses
it now to tell a person, before they send, exactly who will see their report.
"""
from __future__ import annotations

import sqlalchemy as sa

from .extensions import db
from .models import Partner, RoutingRule


def matches(conditions: dict, facets: dict) -> bool:
    for name, wanted in conditions.items():
        have = facets.get(name)
        if isinstance(wanted, list):
            if not set(wanted) & set(have or []):
                return False
        elif have != wanted:
            return False
    return True


def _consented(partner: Partner, facets: dict) -> bool:
    if partner.is_police:
        return bool(facets.get("consent_police"))
    return bool(facets.get("consent_partners")) or partner.is_default_triage


def recipients(facets: dict) -> list[Partner]:
    """Partners a report with these facets goes to, in rule order.

    Consent is a hard limit, whatever a rule says: without consent to share
    with the police no police partner is chosen, and without consent to share
    with other organisations no other partner is, except the partnership's
    default triage partner. No match: the default triage partner.
    """
    rules = db.session.scalars(
        sa.select(RoutingRule).where(RoutingRule.enabled).order_by(RoutingRule.priority, RoutingRule.id)
    )
    chosen: dict[int, Partner] = {}
    for rule in rules:
        if matches(rule.conditions or {}, facets):
            partner = db.session.get(Partner, rule.partner_id)
            if partner.active and _consented(partner, facets):
                chosen.setdefault(partner.id, partner)
    if not chosen:
        default = db.session.scalar(sa.select(Partner).where(Partner.is_default_triage, Partner.active))
        if default is not None:
            chosen[default.id] = default
    return list(chosen.values())
