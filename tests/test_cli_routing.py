"""`flask mantra rules | pins | queue` as an administrator uses them."""

from __future__ import annotations

import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import facets, intake, pins
from mantra.extensions import db
from mantra.models import Partner, Report, RoutingRule

from .factories import make_partners, marked_submission, stored


def _run(app, *args):
    result = app.test_cli_runner().invoke(args=["mantra", *args])
    db.session.expire_all()
    return result


def test_rules_are_added_listed_edited_disabled_and_previewed(app):
    make_partners(police_rule=True)
    added = _run(app, "rules", "add", "--name", "Religion to police", "--partner", "tvp-oxford",
                 "--priority", "7", "--when", "strands=religion,race", "--when", "consent_police=yes")  # fmt: skip
    assert added.exit_code == 0, added.output
    rule = db.session.scalar(sa.select(RoutingRule).where(RoutingRule.name == "Religion to police"))
    assert rule.conditions == {"strands": ["religion", "race"], "consent_police": True} and rule.priority == 7
    listed = _run(app, "rules", "list").output
    assert "Religion to police" in listed and '"consent_police": true' in listed

    # Consent is a hard limit: the rule matches, but without consent no police.
    preview = _run(app, "rules", "preview", "--when", "strands=religion", "--when", "consent_partners=yes")
    assert preview.output.split("\n")[:1] == ["Victim Support"]
    preview = _run(app, "rules", "preview", "--when", "strands=religion", "--when", "consent_police=yes")
    assert preview.output.strip() == "Thames Valley Police"
    centre = _run(app, "rules", "preview", "--centre", "centre-library")
    assert centre.output.split("\n")[:2] == ["Central Library centre", "Victim Support"]

    assert _run(app, "rules", "disable", str(rule.id)).exit_code == 0
    assert db.session.get(RoutingRule, rule.id).enabled is False
    assert _run(app, "rules", "edit", str(rule.id), "--enable", "--when", "area=cowley").exit_code == 0
    rule = db.session.get(RoutingRule, rule.id)
    assert rule.enabled and rule.conditions == {"area": "cowley"}


def test_a_rule_that_could_never_work_is_refused_with_a_reason(app):
    make_partners()
    for when, reason in [
        ("colour=red", "unknown facet 'colour'"),
        ("strands=purple", "'purple' is not a value"),
        ("consent_police=maybe", "consent_police takes yes or no"),
    ]:
        result = _run(app, "rules", "add", "--name", "bad", "--partner", "tvp-oxford", "--when", when)
        assert result.exit_code != 0 and reason in result.output, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) == 0


def test_preview_gives_the_same_partners_as_who_will_see_your_report(app):
    partners, area = make_partners(police_rule=True)
    sub = marked_submission("SAME", area.id)
    sub.consent_police = False
    expected = [p.name for p in facets.who_will_see(intake.report_from(sub))]
    preview = _run(app, "rules", "preview", "--when", "strands=race,religion", "--when", "consent_partners=yes",
                   "--when", "area=cowley", "--when", "may_contact=yes", "--when", "kinds=verbal_abuse,threats",
                   "--when", "incident_type=crime")  # fmt: skip
    assert preview.output.split("\n")[:-1] == expected == ["Victim Support"]


def test_pins_show_a_changed_key_and_pin_only_when_confirmed(app):
    partners, _ = make_partners()
    police = partners["tvp-oxford"][0]
    police.public_key = vault.PrivateKey.generate().public.raw
    db.session.commit()
    listed = _run(app, "pins", "list").output
    assert "tvp-oxford               CHANGED" in listed and "victim-support           pinned" in listed
    refused = app.test_cli_runner().invoke(args=["mantra", "pins", "add", "tvp-oxford"], input="n\n")
    assert refused.exit_code != 0 and not pins.is_pinned(db.session.get(Partner, police.id))
    assert pins.fingerprint(police.public_key) in refused.output
    assert _run(app, "pins", "add", "tvp-oxford", "--yes").exit_code == 0
    assert pins.is_pinned(db.session.get(Partner, police.id))


def test_queue_status_counts_waiting_and_held_reports_and_release_queues_one_again(app, redis_conn):
    _, area = make_partners()
    waiting, _ = stored(marked_submission("WAITING", area.id))
    held, _ = stored(marked_submission("HELD", area.id))
    db.session.execute(sa.update(Report).where(Report.id == held.id).values(held_reason="facets-changed"))
    db.session.commit()
    status = _run(app, "queue").output
    assert "queue routing       waiting     2" in status, status
    assert "reports waiting to be routed: 1" in status and f"HELD {held.reference}: facets-changed" in status
    assert "WAITING" not in status
    released = _run(app, "queue", "release", held.reference)
    assert released.exit_code == 0 and db.session.get(Report, held.id).held_reason is None


def test_queue_status_says_plainly_when_redis_is_down(app):
    from .conftest import free_port

    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    status = _run(app, "queue").output
    assert "Redis is not reachable" in status and "reports waiting to be routed: 0" in status
