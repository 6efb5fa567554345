"""Routing rules as the journey previews them: facets only, consent a hard limit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from mantra.domain import rules
from mantra.extensions import db
from mantra.models import RULE_FACETS, RoutingRule, RuleError

from .factories import make_partners


def _setup():
    made, _ = make_partners()
    police, support = made["tvp-oxford"][0], made["victim-support"][0]
    from mantra.domain import accounts
    from mantra.models import PartnerKind

    council, _ = accounts.create_partner("council", "City Council", PartnerKind.AGENCY)
    # Careless rules: no consent conditions at all.
    db.session.add_all(
        [
            RoutingRule(
                name="all race reports to police", priority=1, conditions={"strands": ["race"]}, partner_id=police.id
            ),
            RoutingRule(
                name="all race reports to council", priority=2, conditions={"strands": ["race"]}, partner_id=council.id
            ),
        ]
    )
    db.session.commit()
    return police, support, council


def names(facets):
    return sorted(p.name for p in rules.recipients({**_all_facets(), **facets}))


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
    assert rules.matches({"area": ["cowley", "headington"]}, {"area": "cowley"})
    assert not rules.matches({"area": ["cowley"]}, {"area": None})
    assert not rules.matches({"flag_student": True}, {"flag_student": False})


@pytest.mark.parametrize(
    "conditions, problem",
    [
        ({"strand": ["race"]}, "unknown facet 'strand'"),
        ({"strands": ["racism"]}, "'racism' is not a value"),
        ({"consent_police": "yes"}, "'yes' is not a value"),
        ({"area": ""}, "'' is not a value"),
        ({"kinds": []}, "at least one value"),
    ],
)
def test_a_rule_that_could_never_match_as_written_is_refused_when_saved(app, conditions, problem):
    made, _ = make_partners()
    with pytest.raises(RuleError, match=problem):
        RoutingRule(name="careless", conditions=conditions, partner_id=made["tvp-oxford"][0].id)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) == 0


def test_a_rule_changed_behind_the_applications_back_is_skipped_loudly(app, caplog):
    _setup()
    db.session.execute(sa.update(RoutingRule).values(conditions={"strand": ["race"]}))  # no validation here
    db.session.commit()
    db.session.expire_all()
    facets = {"strands": ["race"], "consent_police": True, "consent_partners": True}
    assert names(facets) == ["Victim Support"]
    assert "skipped: unknown facet 'strand'" in caplog.text


def _all_facets() -> dict:
    return {key: None for key in RULE_FACETS}


def test_the_preview_and_the_routing_of_a_stored_report_use_the_same_facets(app):
    """'Who will see your report' is computed from the report's facets, exactly
    as routing will compute it once the report is stored."""
    from mantra.domain import facets, intake

    from .factories import marked_submission, stored

    made, area = make_partners(police_rule=True)
    sub = marked_submission("PREVIEW", area.id)
    preview = facets.who_will_see(intake.report_from(sub))
    db.session.expunge_all()
    report, _ = stored(sub)
    assert facets.routing_facets(report).keys() == RULE_FACETS.keys()
    assert [p.id for p in facets.who_will_see(report)] == [p.id for p in preview] == [made["tvp-oxford"][0].id]
