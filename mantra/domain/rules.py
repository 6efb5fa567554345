"""Routing rules: conditions on facets only, evaluated without decrypting.
What a rule may test is `models.RULE_FACETS`; a rule testing anything else is
refused when it is saved."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..extensions import db
from ..models import Partner, RoutingRule, RuleError, check_conditions

log = logging.getLogger(__name__)


def matches(conditions: dict, facets: dict) -> bool:
    """Every condition holds. A list means "any of these"; against a list-valued
    facet (strands, kinds) it means "shares one of these"."""
    for name, wanted in conditions.items():
        have = facets[name]
        have_set = set(have) if isinstance(have, list) else {have}
        wanted_set = set(wanted) if isinstance(wanted, list) else {wanted}
        if isinstance(have, list) or isinstance(wanted, list):
            if not wanted_set & have_set:
                return False
        elif have != wanted or type(have) is not type(wanted):
            return False
    return True


def consented(partner: Partner, facets: dict) -> bool:
    if partner.is_police:
        return bool(facets["consent_police"])
    return bool(facets["consent_partners"])


def recipients(facets: dict) -> list[Partner]:
    """Partners a report with these facets goes to, in rule order.

    Consent is a hard limit, whatever a rule says: without consent to share
    with the police no police partner is chosen, and without consent to share
    with other organisations no other partner is. When nobody is chosen (no
    rule matched, or consent ruled them all out), the partnership's default
    triage partner reads it: every report is read by someone. The public pages
    say exactly this (reporting/sharing.py).
    """
    rules = db.session.scalars(
        sa.select(RoutingRule).where(RoutingRule.enabled).order_by(RoutingRule.priority, RoutingRule.id)
    )
    chosen: dict[int, Partner] = {}
    for rule in rules:
        try:  # checked when saved; a row changed behind the application's back is skipped, loudly
            check_conditions(rule.conditions)
        except RuleError as exc:
            log.warning("routing rule %s skipped: %s", rule.id, exc)
            continue
        if matches(rule.conditions, facets):
            partner = db.session.get(Partner, rule.partner_id)
            if partner.active and consented(partner, facets):
                chosen.setdefault(partner.id, partner)
    if not chosen:
        default = db.session.scalar(sa.select(Partner).where(Partner.is_default_triage, Partner.active))
        if default is not None:
            chosen[default.id] = default
    return list(chosen.values())
