"""Erasure by crypto-shredding and the retention rules, as an attacker holding
every key would try them: after erasure no key (intake, partner, recovery,
the receipt code, an open follow-up session) opens anything of the report;
nor does a backup of the database taken before it."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import intake, retention, shredding
from mantra.extensions import db
from mantra.models import (
    AuditEvent,
    IncidentType,
    RecipientKind,
    Referral,
    ReferralStatus,
    Report,
    ReportKey,
    utcnow,
)

from .conftest import IsolatedClient, temporary_pg_database
from .factories import make_partners, marked_submission, stored
from .journey import post
from .workers import wait_for, worker

MARKERS = ("ERASEME", "KEEPME")


def _routed(*ids):
    def check():
        db.session.rollback()
        return all(db.session.get(Report, i).status.value == "routed" for i in ids)

    return check


@pytest.fixture
def two_routed(app, tmp_path, key_files, redis_conn):
    """Two reports sent and routed by a real worker to the police and victim support."""
    partners, area = make_partners(police_rule=True, support_rule=True)
    sent = [stored(marked_submission(marker, area.id)) for marker in MARKERS]
    with worker(app, tmp_path):
        wait_for(_routed(*(r.id for r, _ in sent)), what="both reports to be routed")
    keys = {
        "intake": key_files["intake"],
        "recovery": key_files["recovery"],
        **{slug: key for slug, (_p, key) in partners.items()},
    }
    return sent, keys, partners


def _every_key_tries(report_id: int, wraps: list[ReportKey], keys: dict, code: str, shred_id=None) -> list[str]:
    """Which keys still open the report's data key from these wraps, with the
    app's key store (and the report's shred id: this database's unless given)."""
    shred_id = shred_id or db.session.scalar(sa.select(Report.shred_id).where(Report.id == report_id))
    reporter = vault.derive_receipt(code, intake.keyring.receipt_salt()).reporter_key
    opened = []
    for wrap in wraps:
        for name, key in [*keys.items(), ("reporter", reporter)]:
            info = (
                intake.intake_info(db.session.get(Report, report_id))  # binds the routing facets
                if wrap.recipient == RecipientKind.INTAKE
                else intake.report_key_info(report_id, wrap.recipient, wrap.partner_id)
            )
            try:
                locked = vault.unwrap(wrap.wrap, key, info)
            except vault.VaultError:
                continue  # not this key's wrap
            try:
                shredding.unlock(shred_id, locked)
                opened.append(name)
            except vault.VaultError:
                pass
    return sorted(opened)


EVERY_HOLDER = ["recovery", "reporter", "tvp-oxford", "victim-support"]


def _wraps(report_id: int) -> list[ReportKey]:
    rows = db.session.scalars(sa.select(ReportKey).where(ReportKey.report_id == report_id)).all()
    db.session.expunge_all()
    return rows


def test_after_erasure_no_key_opens_anything_of_the_report(app, two_routed):
    sent, keys, _partners = two_routed
    (erased, code), (kept, kept_code) = sent
    before = _wraps(erased.id)
    assert _every_key_tries(erased.id, before, keys, code) == EVERY_HOLDER
    reporter = IsolatedClient(app, app.response_class)  # a follow-up session open when the erasure comes
    post(reporter, "/follow-up/", {"code": code})
    assert erased.reference in reporter.get("/follow-up/report").text

    result = app.test_cli_runner().invoke(
        args=["mantra", "erase", erased.reference, "--reason", "asked by the reporter through Victim Support", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "4 key wraps" in result.output and "shred key deleted" in result.output

    # Every key, tried on every wrap the report ever had (copied before): nothing opens.
    assert _every_key_tries(erased.id, before, keys, code) == []
    assert _wraps(erased.id) == []
    assert intake.open_with_receipt(code) is None
    page = reporter.get("/follow-up/report")
    assert page.status_code == 302 and page.location.endswith("/follow-up/")
    # The other report is untouched.
    assert intake.open_with_receipt(kept_code).content("account")["narrative"] == "narrative KEEPME"
    row = db.session.get(Report, erased.id)
    assert row.erased_at is not None and row.sealed_account is None and row.incident_type == IncidentType.CRIME
    referrals = db.session.scalars(sa.select(Referral).where(Referral.report_id == erased.id)).all()
    assert referrals and all(r.status == ReferralStatus.CLOSED for r in referrals)
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.erased"))
    assert event.detail["reason"] == "asked by the reporter through Victim Support"
    assert "ERASEME" not in str(event.detail)
    dump = _dump(app.config["SQLALCHEMY_DATABASE_URI"])
    assert b"KEEPME" not in dump and b"ERASEME" not in dump  # ciphertext only, for both
    again = app.test_cli_runner().invoke(args=["mantra", "erase", erased.reference, "--reason", "twice"])
    assert again.exit_code == 0 and "was erased on" in again.output


def _dump(url: str) -> bytes:
    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--no-owner", plain], check=True, capture_output=True).stdout


def test_a_backup_from_before_the_erasure_opens_nothing_of_the_erased_report(
    app, two_routed, key_files, tmp_path, redis_url
):
    """Restore a dump taken before the erasure, with today's key store and every
    partner's key: the erased report opens nowhere, the other still opens."""
    sent, keys, _partners = two_routed
    (erased, code), (kept, kept_code) = sent
    backup = _dump(app.config["SQLALCHEMY_DATABASE_URI"])
    result = app.test_cli_runner().invoke(args=["mantra", "erase", erased.reference, "--reason", "test", "--yes"])
    assert result.exit_code == 0, result.output
    with temporary_pg_database() as restored_url:
        plain = sa.make_url(restored_url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", plain], input=backup, check=True, capture_output=True)
        engine = sa.create_engine(restored_url)
        with engine.connect() as conn:  # the backup, as it was
            reports = {r.id: r for r in conn.execute(sa.select(Report.__table__))}
            wraps = conn.execute(sa.select(ReportKey.__table__)).all()
        engine.dispose()
    assert reports[erased.id].sealed_account is not None  # the backup holds the content and every wrap
    old = {i: [ReportKey(**w._mapping) for w in wraps if w.report_id == i] for i in reports}
    assert len(old[erased.id]) == 4
    # Today's key store, every key there is, on the backup's wraps and shred ids.
    assert _every_key_tries(erased.id, old[erased.id], keys, code, reports[erased.id].shred_id) == []
    assert _every_key_tries(kept.id, old[kept.id], keys, kept_code, reports[kept.id].shred_id) == EVERY_HOLDER


def test_the_rules_plan_first_then_erase_what_is_still_due_a_day_later(app, redis_conn):
    """Crime: kept six years after its last referral closed. A non-crime incident:
    90 days, unless a partner recorded a reason to keep it. Nothing with an
    open referral. Planned a day ahead; a reason recorded in between saves it."""
    partners, area = make_partners()
    police = partners["tvp-oxford"][0]
    now = utcnow()
    cases = {}
    for name, kind, closed_days_ago, still_open in [
        ("old-crime", IncidentType.CRIME, 6 * 366, False),
        ("recent-crime", IncidentType.CRIME, 400, False),
        ("old-incident", IncidentType.INCIDENT, 100, False),
        ("unsure-incident", IncidentType.NOT_SURE, 100, False),
        ("kept-incident", IncidentType.INCIDENT, 100, False),
        ("fresh-incident", IncidentType.INCIDENT, 10, False),
        ("open-incident", IncidentType.INCIDENT, 100, True),
    ]:
        sub = marked_submission(name.upper().replace("-", ""), area.id)
        sub.incident_type = kind
        report, _code = intake.store_report(sub)
        closed = now - timedelta(days=closed_days_ago)
        db.session.add(
            Referral(report_id=report.id, partner_id=police.id, status=ReferralStatus.CLOSED, closed_at=closed)
        )
        if still_open:
            db.session.add(Referral(report_id=report.id, partner_id=partners["victim-support"][0].id))
        cases[name] = report
    db.session.flush()
    db.session.execute(
        sa.update(Referral)
        .where(Referral.report_id == cases["kept-incident"].id)
        .values(keep_reason="significant_harm")
    )
    db.session.commit()
    due = {report.reference: rule for report, rule in retention.due(now)}
    assert due == {
        cases["old-crime"].reference: "crime",
        cases["old-incident"].reference: "incident",
        cases["unsure-incident"].reference: "incident",
    }
    dry_run = app.test_cli_runner().invoke(args=["mantra", "retention"])
    assert "not planned yet" in dry_run.output and cases["old-crime"].reference in dry_run.output

    retention.plan(now)
    db.session.commit()
    assert retention.apply(now) == []  # planned, not yet erased: a day's notice
    # In between, a partner records a reason to keep the unsure one.
    db.session.execute(
        sa.update(Referral)
        .where(Referral.report_id == cases["unsure-incident"].id)
        .values(keep_reason="future_offence")
    )
    db.session.commit()
    erased = retention.apply(now + retention.NOTICE + timedelta(seconds=1))
    db.session.commit()
    assert sorted(e.reference for e in erased) == sorted(
        [cases["old-crime"].reference, cases["old-incident"].reference]
    )
    assert retention.shred_keys(erased) == 2
    for name, report in cases.items():
        row = db.session.get(Report, report.id)
        assert (row.erased_at is not None) == (name in ("old-crime", "old-incident")), name
        assert shredding.exists(row.shred_id) == (row.erased_at is None), name
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "report.erased")).all()
    assert sorted(e.detail["rule"] for e in events) == ["crime", "incident"]


def test_an_unrouted_report_erased_opens_with_neither_the_intake_key_nor_the_receipt(app, key_files, redis_conn):
    _partners, area = make_partners()
    report, code = intake.store_report(marked_submission("NOTROUTED", area.id))
    db.session.commit()
    before = _wraps(report.id)
    keys = {"intake": key_files["intake"], "recovery": key_files["recovery"]}
    assert _every_key_tries(report.id, before, keys, code) == ["intake", "reporter"]
    report = db.session.get(Report, report.id)
    erased = retention.erase(report, "test")
    db.session.commit()
    retention.shred_keys([erased])
    assert _every_key_tries(report.id, before, keys, code) == []


def test_a_shred_key_whose_report_never_arrived_is_swept(app):
    from datetime import UTC, datetime

    _partners, area = make_partners()
    report, _code = intake.store_report(marked_submission("ARRIVED", area.id))
    db.session.commit()
    orphan, _locked = shredding.new(vault.new_data_key())  # the sending failed after its key was made
    later = datetime.now(UTC) + timedelta(days=2)
    assert retention.sweep_orphan_keys(datetime.now(UTC)) == 0  # too new to judge
    assert retention.sweep_orphan_keys(later) == 1
    assert not shredding.exists(orphan) and shredding.exists(db.session.get(Report, report.id).shred_id)


def test_the_daily_pass_plans_once_a_day_and_says_so_in_the_audit_trail(app, redis_conn):
    from mantra.jobs import housekeeping

    partners, area = make_partners()
    report, _code = intake.store_report(marked_submission("DAILY", area.id))
    db.session.add(
        Referral(
            report_id=report.id,
            partner_id=partners["tvp-oxford"][0].id,
            status=ReferralStatus.CLOSED,
            closed_at=utcnow() - timedelta(days=7 * 366),
        )
    )
    db.session.commit()
    assert housekeeping.apply_retention().endswith("erased 0 reports, 1 due for erasure")
    assert db.session.get(Report, report.id).erase_after is not None
    (planned,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.planned"))
    assert planned.detail["reports"] == [report.id]
    assert (
        housekeeping.apply_retention().startswith("removed 0 old drafts")
        and "due" not in housekeeping.apply_retention()
    )
