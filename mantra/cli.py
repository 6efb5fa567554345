"""`flask mantra ...`: set-up, demo data, users and key grants."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from . import demo
from .crypto import keys, vault
from .domain import accounts
from .extensions import db
from .models import Area, Partner, RoutingRule, StaffRole, StaffUser

mantra_cli = AppGroup("mantra", help="MANTRA set-up and key management.")


def _instance() -> Path:
    return Path(current_app.instance_path)


@mantra_cli.command("init")
@click.option(
    "--recovery-out",
    type=click.Path(dir_okay=False),
    default=None,
    help="where to write the recovery private key (default instance/recovery.key); "
    "use removable media for a real installation",
)
def init_command(recovery_out):
    """Write the intake and recovery key pairs (never overwrites)."""
    cfg = current_app.config
    written = []
    for purpose, public_file, private_file in [
        ("intake", cfg["INTAKE_PUBLIC_KEY_FILE"], cfg["INTAKE_PRIVATE_KEY_FILE"]),
        ("recovery", cfg["RECOVERY_PUBLIC_KEY_FILE"], recovery_out or str(_instance() / "recovery.key")),
    ]:
        if Path(public_file).exists():
            click.echo(f"{purpose} key: already set up ({public_file}), left as it is.")
            continue
        if Path(private_file).exists():
            sys.exit(f"{private_file} exists but {public_file} does not: restore the public key, do not regenerate.")
        key = vault.PrivateKey.generate()
        keys.write_private(Path(private_file), key, purpose)
        keys.write_public(Path(public_file), key.public)
        written.append((purpose, public_file, private_file))
    for purpose, public_file, private_file in written:
        click.echo(f"{purpose} key: public {public_file}, private {private_file}")
    if any(p == "recovery" for p, *_ in written):
        click.secho(
            "WARNING: move the recovery private key offline now (print it, store it in a safe),\n"
            "then delete it from this machine. It can open every partner's key.",
            fg="yellow",
            err=True,
        )
    click.echo("Workers need the intake private key; the web tier must not have it.")


@mantra_cli.command("seed-demo")
def seed_demo_command():
    """Demo partners, areas, routing rules and accounts (development only)."""
    if current_app.config["MANTRA_ENV"] == "production":
        sys.exit("seed-demo makes accounts with known passwords: it does not run in production.")
    if db.session.scalar(sa.select(sa.func.count()).select_from(Partner)):
        click.echo("Demo data already present; nothing changed.")
        return
    partner_keys: dict[str, tuple[Partner, vault.PrivateKey]] = {}
    with click.progressbar(demo.PARTNERS, label="Partners and their keys") as bar:
        for slug, name, kind, facts in bar:
            partner_keys[slug] = accounts.create_partner(slug, name, kind, **facts)
    for order, (slug, name, kind) in enumerate(demo.AREAS):
        db.session.add(Area(slug=slug, name=name, kind=kind, sort_order=order))
    for name, priority, conditions, slug in demo.RULES:
        db.session.add(
            RoutingRule(name=name, priority=priority, conditions=conditions, partner_id=partner_keys[slug][0].id)
        )
    lines = []
    with click.progressbar(demo.USERS, label="Staff accounts (Argon2id)") as bar:
        for email, name, slug, role in bar:
            password = secrets.token_urlsafe(12)
            partner, partner_key = partner_keys[slug]
            user = accounts.create_user(email, name, partner, role, password)
            accounts.grant(partner, partner_key, user, granted_by=None)
            lines.append(f"{email:32} {password}   {partner.name} ({role.value})")
    db.session.commit()
    path = _instance() / "demo-sign-ins.txt"
    path.write_text("Demo staff sign-ins (development only)\n" + "\n".join(lines) + "\n")
    path.chmod(0o600)
    click.echo(
        f"Seeded {len(demo.PARTNERS)} partners, {len(demo.AREAS)} areas, "
        f"{len(demo.RULES)} routing rules, {len(demo.USERS)} accounts; sign-ins in {path}."
    )


def _partner(slug: str) -> Partner:
    partner = db.session.scalar(sa.select(Partner).where(Partner.slug == slug))
    if partner is None:
        sys.exit(f"No partner '{slug}'. Known: " + ", ".join(db.session.scalars(sa.select(Partner.slug))))
    return partner


def _user(email: str) -> StaffUser:
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        sys.exit(f"No staff user '{email}'.")
    return user


@mantra_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--partner", "partner_slug", required=True, help="partner slug")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), default="triage")
@click.password_option(help="asked for when not given")
def create_user_command(email, name, partner_slug, role, password):
    """Create a staff user. They can read nothing until someone grants them their partner's key."""
    partner = _partner(partner_slug)
    if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email.strip().lower())):
        sys.exit(f"A staff user '{email}' already exists.")
    if len(password) < 12:
        sys.exit("Use a password of at least 12 characters.")
    user = accounts.create_user(email, name, partner, StaffRole(role), password)
    db.session.commit()
    click.echo(
        f"Created {user.email} at {partner.name}. Next: flask mantra grant --partner {partner.slug} --user {user.email} --by <member>"
    )


@mantra_cli.command("grant")
@click.option("--partner", "partner_slug", required=True)
@click.option("--user", "member_email", required=True, help="the user to receive the key")
@click.option("--by", "granter_email", required=True, help="a member who holds the key")
@click.option("--password", prompt="Password of the granting member", hide_input=True)
def grant_command(partner_slug, member_email, granter_email, password):
    """Wrap a partner's key to a member's user key."""
    partner, member, granter = _partner(partner_slug), _user(member_email), _user(granter_email)
    try:
        partner_key = accounts.partner_key_for(granter, accounts.unlock_user_key(granter, password), partner)
    except vault.WrongPassword:
        sys.exit("Wrong password for the granting member.")
    except accounts.GrantError as exc:
        sys.exit(str(exc))
    accounts.grant(partner, partner_key, member, granted_by=granter)
    db.session.commit()
    click.echo(f"{member.email} can now open {partner.name}'s referrals.")


@mantra_cli.command("recover")
@click.option("--partner", "partner_slug", required=True)
@click.option("--user", "member_email", required=True)
@click.option("--recovery-key", "key_file", required=True, type=click.Path(exists=True, dir_okay=False))
def recover_command(partner_slug, member_email, key_file):
    """Re-grant a partner's key with the offline recovery key (when no member is left)."""
    partner, member = _partner(partner_slug), _user(member_email)
    try:
        recovery = vault.PrivateKey.from_file_text(Path(key_file).read_text())
        partner_key = accounts.partner_key_from_recovery(partner, recovery)
    except vault.VaultError:
        sys.exit("That recovery key does not open this partner's key.")
    accounts.grant(partner, partner_key, member, granted_by=None)
    db.session.commit()
    click.echo(f"{member.email} can now open {partner.name}'s referrals (granted with the recovery key).")
