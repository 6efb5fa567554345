"""Routing rules: conditions on facets only, evaluated without decrypting.
What a rule may test is `models.RULE_FACETS`; a rule testing anything else is
refused when it is saved."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    RULE_FACETS,
    Area,
    Partner,
    Report,
    ReportKind,
    ReportStrand,
    RoutingRule,
    RuleError,
    check_conditions,
    utcnow,
)

log = logging.getLogger(__name__)

MANY = ("strands", "kinds")  # the facets a report has several of
FLAGS = tuple(name for name, allowed in RULE_FACETS.items() if allowed == (True, False))
PRIORITY_STEP = 10  # gaps left between renumbered rules, so the CLI can still put one in between


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


def in_order(lock: bool = False) -> list[RoutingRule]:
    """Every rule, enabled or not, in the order `recipients` tries them."""
    query = sa.select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.id)
    return list(db.session.scalars(query.with_for_update() if lock else query))


def next_priority() -> int:
    """A new rule goes last."""
    highest = db.session.scalar(sa.select(sa.func.max(RoutingRule.priority)))
    return (highest or 0) + PRIORITY_STEP


def move(rule: RoutingRule, step: int) -> int | None:
    """Swap a rule with its neighbour in the order (-1 up, +1 down), then
    number every rule again so the order is exactly what was shown: no two
    share a priority, so the id no longer breaks ties. The rows are locked
    first, so two administrators moving rules at once cannot interleave.
    The rule's new place (1 is first), or None at either end."""
    order = in_order(lock=True)
    here = order.index(rule)
    there = here + step
    if not 0 <= there < len(order):
        return None
    order[here], order[there] = order[there], order[here]
    for place, each in enumerate(order, start=1):
        each.priority = place * PRIORITY_STEP
    return there + 1


def _holds(name: str, wanted):
    """One condition as SQL on the report's facet columns, meaning what `matches` means."""
    values = wanted if isinstance(wanted, list) else [wanted]
    if name == "strands":
        return sa.exists().where(ReportStrand.report_id == Report.id, ReportStrand.strand.in_(values))
    if name == "kinds":
        return sa.exists().where(ReportKind.report_id == Report.id, ReportKind.kind.in_(values))
    if name == "area":
        return Report.area_id.in_(sa.select(Area.id).where(Area.slug.in_(values)))
    return getattr(Report, name).in_(values)


def recent_matches(conditions: dict, days: int = 90) -> int:
    """How many reports sent in the last `days` a rule with these conditions
    matches: one COUNT on facet columns, nothing decrypted. A match is not a
    delivery: consent still decides whether its partner receives one."""
    check_conditions(conditions)
    query = sa.select(sa.func.count(Report.id)).where(Report.submitted_at >= utcnow() - timedelta(days=days))
    for name, wanted in conditions.items():
        query = query.where(_holds(name, wanted))
    return db.session.scalar(query)
