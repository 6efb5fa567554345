"""Routing rules as the journey previews them: facets only, consent a hard limit."""
from __future__ import annotations

from mantra import rules
from mantra.extensions import db
from mantra.models import RoutingRule

from .factories import make_partners


def _setup():
    made, _ = make_partners()
    police, support = made["tvp-oxford"][0], made["victim-support"][0]
    from mantra import accounts
    from mantra.models import PartnerKind

    council, _ = accounts.create_partner("council", "City Council", PartnerKind.AGENCY)
    # Careless rules: no consent conditions at all.
    db.session.add_all([
        RoutingRule(name="all race reports to police", priority=1, conditions={"strands": ["race"]}, partner_id=police.id),
        RoutingRule(name="all race reports to council", priority=2, conditions={"strands": ["race"]}, partner_id=council.id),
    ])
    db.session.commit()
    return police, support, council


def names(facets):
    return sorted(p.name for p in rules.recipients(facets))


def test_consent_limits_hold_even_when_a_rule_forgets_them(app):
    police, support, council = _setup()
    base = {"strands": ["race"]}
    assert names({**base, "consent_police": True, "consent_partners": True}) == ["City Council", "Thames Valley Police"]
    assert names({**base, "consent_police": True, "consent_partners": False}) == ["Thames Valley Police"]
    assert names({**base, "consent_police": False, "consent_partners": True}) == ["City Council"]
    assert names({**base, "consent_police": False, "consent_partners": False}) == ["Victim Support"]


def test_no_matching_rule_goes_to_the_default_triage_partner(app):
    _setup()
    assert names({"strands": ["disability"], "consent_police": True, "consent_partners": True}) == ["Victim Support"]
    assert rules.matches({"strands": ["race", "religion"]}, {"strands": ["religion"]})
    assert not rules.matches({"flag_student": True}, {"flag_student": False})
