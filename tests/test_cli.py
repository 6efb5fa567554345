"""`flask mantra ...` as an administrator uses it."""

from __future__ import annotations

import re

import sqlalchemy as sa

from mantra.crypto import vault
from mantra.domain import accounts
from mantra.extensions import db
from mantra.models import Area, KeyGrant, Partner, RoutingRule, StaffUser


def test_init_writes_keys_once_and_keeps_the_intake_private_key_apart(app, tmp_path):
    keys_dir = tmp_path / "k"
    app.config.update(
        INTAKE_PUBLIC_KEY_FILE=str(keys_dir / "intake.pub"),
        INTAKE_PRIVATE_KEY_FILE=str(tmp_path / "worker" / "intake.key"),
        RECOVERY_PUBLIC_KEY_FILE=str(keys_dir / "recovery.pub"),
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mantra", "init"])
    assert result.exit_code == 0, result.output
    assert "move the recovery private key offline" in result.output
    assert (tmp_path / "worker" / "intake.key").stat().st_mode & 0o077 == 0
    private = vault.PrivateKey.from_file_text((tmp_path / "worker" / "intake.key").read_text())
    assert vault.PublicKey.from_text((keys_dir / "intake.pub").read_text()).raw == private.public.raw
    before = (keys_dir / "intake.pub").read_text()
    again = runner.invoke(args=["mantra", "init"])
    assert "already set up" in again.output and (keys_dir / "intake.pub").read_text() == before


def test_seed_demo_makes_the_city_partners_areas_rules_and_accounts(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["mantra", "seed-demo"])
    assert result.exit_code == 0, result.output
    names = set(db.session.scalars(sa.select(Partner.name)))
    assert {"Thames Valley Police (Oxford)", "Oxford Brookes University", "LGBT+ Liaison Team"} <= names
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Area)) >= 15
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoutingRule)) >= 5
    # Printed sign-ins work: the password unlocks the user's key, which opens the partner key.
    assert "demo-sign-ins.txt" in result.output
    sign_ins = open(f"{app.instance_path}/demo-sign-ins.txt").read()
    email, password = re.search(r"(police\.triage@demo\.mantra)\s+(\S+)", sign_ins).groups()
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email))
    partner_key = accounts.partner_key_for(user, accounts.unlock_user_key(user, password), user.partner)
    assert partner_key.public.raw == user.partner.public_key
    assert "already present" in runner.invoke(args=["mantra", "seed-demo"]).output


def test_create_user_then_grant_by_a_member_then_recover(app, key_files):
    runner = app.test_cli_runner()
    runner.invoke(args=["mantra", "seed-demo"])
    sign_ins = app.instance_path and open(f"{app.instance_path}/demo-sign-ins.txt").read()
    admin_password = re.search(r"support\.triage@demo\.mantra\s+(\S+)", sign_ins).group(1)

    result = runner.invoke(
        args=[
            "mantra",
            "create-user",
            "--email",
            "New.Person@example.org",
            "--name",
            "New Person",
            "--partner",
            "victim-support",
            "--password",
            "new person password",
        ]
    )
    assert result.exit_code == 0, result.output
    new = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == "new.person@example.org"))
    assert db.session.scalar(sa.select(KeyGrant).where(KeyGrant.staff_user_id == new.id)) is None

    grant = [
        "mantra",
        "grant",
        "--partner",
        "victim-support",
        "--user",
        new.email,
        "--by",
        "support.triage@demo.mantra",
    ]
    wrong = runner.invoke(
        args=grant,
        input="not the password\n",
    )
    assert wrong.exit_code != 0 and "Wrong password" in wrong.output
    ok = runner.invoke(
        args=grant,
        input=admin_password + "\n",
    )
    assert ok.exit_code == 0, ok.output
    key = accounts.partner_key_for(new, accounts.unlock_user_key(new, "new person password"), new.partner)
    assert key.public.raw == new.partner.public_key

    # With every grant gone, the offline recovery key re-grants.
    db.session.execute(sa.delete(KeyGrant).where(KeyGrant.partner_id == new.partner_id))
    db.session.commit()
    recovery_file = key_files["folder"] / "recovery.key"
    recover = ["mantra", "recover", "--partner", "victim-support", "--user", new.email, "--recovery-key"]
    result = runner.invoke(args=[*recover, str(recovery_file)])
    assert result.exit_code == 0, result.output
    key = accounts.partner_key_for(new, accounts.unlock_user_key(new, "new person password"), new.partner)
    assert key.public.raw == new.partner.public_key

    bad = runner.invoke(args=[*recover, str(key_files["folder"] / "intake.key")])
    assert bad.exit_code != 0 and "does not open" in bad.output
