"""`flask mantra ...`: set-up, demo data, users and key grants."""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from . import demo
from .crypto import keys, vault
from .domain import accounts, audit, exports, facets, levels, pins, queue, retention, rules, shredding
from .extensions import db
from .models import (
    RULE_FACETS,
    Area,
    Notification,
    Partner,
    PartnerKind,
    Referral,
    ReferralStatus,
    ReplyTemplate,
    Report,
    ReportStatus,
    RoutingRule,
    RuleError,
    StaffRole,
    StaffUser,
    as_utc,
    check_conditions,
    utcnow,
)

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
        ("notify", cfg["NOTIFY_PUBLIC_KEY_FILE"], cfg["NOTIFY_PRIVATE_KEY_FILE"]),
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
    click.echo("Workers need the intake and notify private keys; the web tier must not have them.")


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
    for partner, _key in partner_keys.values():
        if partner.kind == PartnerKind.AGENCY:
            db.session.add_all(ReplyTemplate(partner_id=partner.id, title=t, body=b) for t, b in demo.REPLIES)
    lines = []
    with click.progressbar(demo.USERS, label="Staff accounts (Argon2id)") as bar:
        for email, name, slug, role in bar:
            password = secrets.token_urlsafe(12)
            partner, partner_key = partner_keys[slug]
            user = accounts.create_user(email, name, partner, role, password)
            if accounts.needs_grant(user):  # coordinators and administrators never read a report
                accounts.grant(partner, partner_key, user, granted_by=None)
            lines.append(f"{email:32} {password}   {partner.name} ({role.value})")
    db.session.commit()
    pins.pin([partner for partner, _key in partner_keys.values()])
    path = _instance() / "demo-sign-ins.txt"
    with os.fdopen(
        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
    ) as f:  # private from the first byte
        f.write("Demo staff sign-ins (development only)\n" + "\n".join(lines) + "\n")
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
    _grant(partner, partner_key, member, granter)
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
    _grant(partner, partner_key, member, None)
    click.echo(f"{member.email} can now open {partner.name}'s referrals (granted with the recovery key).")


def _grant(partner, partner_key, member, granter) -> None:
    try:
        accounts.grant(partner, partner_key, member, granted_by=granter)
    except accounts.GrantError:
        sys.exit(
            f"{member.email} cannot hold {partner.name}'s key: they must be an active triage officer or partner "
            "administrator of it who has chosen their own password (they sign in once first)."
        )
    db.session.commit()


# --- the worker ------------------------------------------------------------


@mantra_cli.command("worker")
@click.option("--burst", is_flag=True, help="run the jobs waiting now, then stop")
@click.option("--name", default=None, help="a name for `rq info` (default: host and process id)")
def worker_command(burst, name):
    """Run a locked-down worker on every MANTRA queue, with RQ's scheduler.

    Start it with MANTRA_PROCESS=worker: it reads the intake and notify
    private keys and the pinned partner keys, which the web tier never has."""
    from redis import Redis, RedisError

    from .worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()
    for setting in ("INTAKE_PRIVATE_KEY_FILE", "NOTIFY_PRIVATE_KEY_FILE"):
        if not Path(app.config[setting]).is_file():
            sys.exit(f"This worker cannot start: {setting} ({app.config[setting]}) is not there.")
    if not pins.read():
        click.secho("No partner key is pinned yet: reports will be held until `flask mantra pins add`.", fg="yellow")
    connection = Redis.from_url(app.config["REDIS_URL"])
    while True:
        for wait in itertools.chain([0, 1, 2, 4, 8, 15], itertools.repeat(30)):  # Redis may start after us
            time.sleep(wait)
            try:
                connection.ping()
                break
            except RedisError as exc:
                click.secho(f"Waiting for Redis ({type(exc).__name__}); reports wait in the database.", fg="yellow")
        # A name of its own each time: RQ refuses a name still registered by a
        # worker that was killed (its entry lasts minutes), so a fixed name
        # would keep a restarted worker from starting at all.
        worker = Worker(
            queue.QUEUES, connection=connection, app=app, name=name and f"{name}.{os.getpid()}.{time.time_ns()}"
        )
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except RedisError as exc:  # Redis went away mid-loop (even while RQ was signing the worker off)
            click.secho(f"Lost Redis ({type(exc).__name__}); starting again when it is back.", fg="yellow")
            continue
        if burst or worker._shutdown_requested_date is not None:  # stopped on request (SIGTERM, Ctrl+C)
            return
        # RQ's loop gives up when Redis goes away in the middle of a job: start again.
        click.secho("The worker stopped after an error; starting it again.", fg="yellow")


# --- pinned partner keys ------------------------------------------------------

pins_cli = AppGroup("pins", help="Partner keys the worker may wrap reports to.")
mantra_cli.add_command(pins_cli)


@pins_cli.command("list")
def pins_list_command():
    """Each partner's key fingerprint and whether it is pinned."""
    pinned = pins.read()
    for partner in db.session.scalars(sa.select(Partner).order_by(Partner.slug)):
        fp = pins.fingerprint(partner.public_key)
        state = "pinned" if pins.is_pinned(partner, pinned) else ("CHANGED" if partner.id in pinned else "not pinned")
        click.echo(f"{partner.slug:24} {state:11} {fp}{'  police' if partner.is_police else ''}")


@pins_cli.command("add")
@click.argument("slugs", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="do not ask to confirm the fingerprints")
def pins_add_command(slugs, yes):
    """Pin partners' current public keys, after checking their fingerprints
    with each partner (read them aloud, compare with `pins list` where the key was made)."""
    partners = [_partner(slug) for slug in slugs]
    for partner in partners:
        police = "  (the police: reports reach it only with consent to share with the police)"
        click.echo(f"{partner.slug:24} {pins.fingerprint(partner.public_key)}{police if partner.is_police else ''}")
    if not yes:
        click.confirm("Pin these keys?", abort=True)
    pins.pin(partners)
    audit.record("keys.pinned", partners=[p.id for p in partners])
    db.session.commit()
    click.echo(f"Pinned {len(partners)} key(s) in {current_app.config['PINNED_KEYS_FILE']}.")


# --- routing rules --------------------------------------------------------------

rules_cli = AppGroup("rules", help="Routing rules: conditions on facets -> a partner.")
mantra_cli.add_command(rules_cli)
_LIST_FACETS = set(rules.MANY)
_FLAGS = set(rules.FLAGS)


def _conditions(when: tuple[str, ...]) -> dict:
    """`--when strands=race,religion --when consent_partners=yes` as a rule's conditions."""
    conditions: dict = {}
    for item in when:
        name, _, value = item.partition("=")
        name = name.strip()
        values = [v.strip() for v in value.split(",") if v.strip()]
        if name in _FLAGS:
            if len(values) != 1 or values[0].lower() not in {"yes", "no", "true", "false"}:
                raise click.BadParameter(f"{name} takes yes or no", param_hint="--when")
            conditions[name] = values[0].lower() in {"yes", "true"}
        elif name in _LIST_FACETS or len(values) > 1:
            conditions[name] = values
        else:
            conditions[name] = values[0] if values else ""
    try:
        return check_conditions(conditions)
    except RuleError as exc:
        raise click.BadParameter(str(exc), param_hint="--when") from None


def _rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        sys.exit(f"No routing rule {rule_id}. See `flask mantra rules list`.")
    return rule


_WHEN_HELP = "facet=value[,value] (repeat for each facet); facets: " + ", ".join(RULE_FACETS)


@rules_cli.command("list")
def rules_list_command():
    """Every rule, in the order they are tried."""
    found = rules.in_order()
    for rule in found:
        partner = db.session.get(Partner, rule.partner_id)
        state = "on " if rule.enabled else "off"
        click.echo(f"{rule.id:>4} {state} {rule.priority:>4}  {partner.slug:20} {rule.name}")
        click.echo(f"{'':15}when {json.dumps(rule.conditions, sort_keys=True)}")
    click.echo(f"{len(found)} rule(s). No match: the default triage partner. Consent is always a hard limit.")


@rules_cli.command("add")
@click.option("--name", required=True)
@click.option("--partner", "partner_slug", required=True)
@click.option("--priority", type=int, default=100, show_default=True, help="lower is tried first")
@click.option("--when", multiple=True, help=_WHEN_HELP)
def rules_add_command(name, partner_slug, priority, when):
    """Add a rule sending reports that match every condition to a partner."""
    rule = RoutingRule(name=name, priority=priority, conditions=_conditions(when), partner_id=_partner(partner_slug).id)
    db.session.add(rule)
    db.session.flush()
    audit.record("rule.added", rule_id=rule.id, partner_id=rule.partner_id)
    db.session.commit()
    click.echo(f"Added rule {rule.id}.")


@rules_cli.command("edit")
@click.argument("rule_id", type=int)
@click.option("--name")
@click.option("--partner", "partner_slug")
@click.option("--priority", type=int)
@click.option("--when", multiple=True, help="replaces all the conditions; " + _WHEN_HELP)
@click.option("--enable", is_flag=True, help="switch a disabled rule back on")
def rules_edit_command(rule_id, name, partner_slug, priority, when, enable):
    """Change a rule."""
    rule = _rule(rule_id)
    if name:
        rule.name = name
    if partner_slug:
        rule.partner_id = _partner(partner_slug).id
    if priority is not None:
        rule.priority = priority
    if when:
        rule.conditions = _conditions(when)
    if enable:
        rule.enabled = True
    audit.record("rule.edited", rule_id=rule.id, partner_id=rule.partner_id)
    db.session.commit()
    click.echo(f"Changed rule {rule.id}.")


@rules_cli.command("disable")
@click.argument("rule_id", type=int)
def rules_disable_command(rule_id):
    """Switch a rule off (it is kept, and `edit --enable` switches it on)."""
    rule = _rule(rule_id)
    rule.enabled = False
    audit.record("rule.disabled", rule_id=rule.id)
    db.session.commit()
    click.echo(f"Disabled rule {rule.id}.")


@rules_cli.command("preview")
@click.option("--when", multiple=True, help=_WHEN_HELP)
@click.option("--centre", "centre_slug", help="as if a reporting centre sent it")
def rules_preview_command(when, centre_slug):
    """Which partners a report with these answers would reach: the same answer
    "who will see your report" gives. Facets not given are no, or none."""
    try:
        report = facets.preview_report(_conditions(when), _partner(centre_slug).id if centre_slug else None)
    except RuleError as exc:
        raise click.BadParameter(str(exc), param_hint="--when") from None
    for partner in facets.who_will_see(report):
        click.echo(partner.name)
    db.session.rollback()


# --- queues -----------------------------------------------------------------------


@mantra_cli.group("queue", invoke_without_command=True)
@click.pass_context
def queue_cli(ctx):
    """What the workers have to do: queues, waiting reports, unsent e-mails."""
    if ctx.invoked_subcommand is None:
        _queue_status()


def _age(moment) -> str:
    seconds = int((utcnow() - as_utc(moment)).total_seconds())
    return f"{seconds // 3600}h {seconds % 3600 // 60}m" if seconds >= 3600 else f"{seconds // 60}m {seconds % 60}s"


def _queue_status():
    from redis import Redis
    from rq import Worker as RQWorker
    from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

    url = current_app.config["REDIS_URL"]
    try:
        conn = Redis.from_url(url, socket_connect_timeout=1)
        conn.ping()
        for name in queue.QUEUES:
            qq = queue.queue(name, conn)
            started = StartedJobRegistry(name, connection=conn).count
            scheduled = ScheduledJobRegistry(name, connection=conn).count
            failed = FailedJobRegistry(name, connection=conn).count
            click.echo(
                f"queue {name:13} waiting {qq.count:>5}  running {started:>4}  later {scheduled:>4}  failed {failed:>4}"
            )
        workers = RQWorker.all(connection=conn)
        click.echo(f"workers: {len(workers)}" + ("" if workers else "  (none: start `flask mantra worker`)"))
    except Exception as exc:
        click.secho(f"Redis is not reachable ({type(exc).__name__}); reports wait in the database meanwhile.", fg="red")
    waiting = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(Report.submitted_at)).where(
            Report.status == ReportStatus.RECEIVED, Report.held_reason.is_(None)
        )
    ).one()
    click.echo(f"reports waiting to be routed: {waiting[0]}" + (f" (oldest {_age(waiting[1])})" if waiting[0] else ""))
    for ref, reason in db.session.execute(
        sa.select(Report.reference, Report.held_reason).where(Report.held_reason.isnot(None))
    ):
        click.secho(f"HELD {ref}: {reason} (then `flask mantra queue release {ref}`)", fg="red")
    unsent = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(Notification.created_at), sa.func.max(Notification.attempts)).where(
            Notification.sent_at.is_(None)
        )
    ).one()
    click.echo(
        f"e-mails not sent yet: {unsent[0]}"
        + (f" (oldest {_age(unsent[1])}, most attempts {unsent[2]})" if unsent[0] else "")
    )
    overdue = db.session.scalar(
        sa.select(sa.func.count()).where(
            Referral.status == ReferralStatus.NEW, Referral.ack_due_at < utcnow(), Referral.acknowledged_at.is_(None)
        )
    )
    click.echo(f"referrals overdue for acknowledgement: {overdue}")
    click.echo("Failed jobs: `rq info --url $REDIS_URL` and the failed job registry (rq requeue --all).")


@queue_cli.command("release")
@click.argument("reference")
def queue_release_command(reference):
    """Route a held report again, once what held it is put right."""
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference.strip().upper()))
    if report is None or report.held_reason is None:
        sys.exit(f"No held report {reference}.")
    audit.record("report.released", report_id=report.id, reason=report.held_reason)
    report.held_reason = None
    db.session.commit()
    queue.enqueue_routing(report.id)
    click.echo(f"{report.reference} queued for routing again; it is held again if the check still fails.")


@queue_cli.command("sweep")
def queue_sweep_command():
    """Queue now what the sweeper would: unrouted reports and unsent e-mails."""
    from .jobs import housekeeping

    current_app.config["SWEEP_AFTER_SECONDS"] = 0
    click.echo(f"Queued {housekeeping.sweep()} job(s).")


# --- the audit trail -------------------------------------------------------------

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")
mantra_cli.add_command(audit_cli)


@audit_cli.command("verify")
def audit_verify_command():
    """Check the audit chain from the first event to the last: an event edited,
    deleted or moved in the database is named. Chains what is ready first."""
    audit.chain()
    db.session.commit()
    try:
        count, head, pending = audit.verify()
    except audit.Broken as exc:
        raise click.ClickException(f"The audit trail has been tampered with: {exc}.") from None
    click.echo(f"The audit trail is intact: {count} events chained, head {head.hex()}.")
    if pending:
        click.echo(f"{pending} newer events will be chained when their transactions are over.")
    click.echo("Keep the head somewhere else: a later head must follow from it.")


# --- reporting levels -------------------------------------------------------------


@mantra_cli.command("export")
@click.option("--month", "month_text", required=True, help="YYYY-MM, for example 2026-10")
@click.option("--format", "kind", type=click.Choice(exports.FORMATS), default="csv", show_default=True)
@click.option("--published", is_flag=True, help="small counts hidden, safe to publish (otherwise exact: internal only)")
@click.option("--rule", type=click.Choice(sorted(levels.RULES)), help="the suppression rule (default: the setting)")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="the file (default: its usual name, here)")
def export_command(month_text, kind, published, rule, out):
    """One month's reporting levels, from facets only (nothing is decrypted)."""
    from datetime import datetime

    try:
        month = datetime.strptime(month_text, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter("give the month as YYYY-MM, for example 2026-10", param_hint="--month") from None
    chosen = levels.RULES[rule or current_app.config["SUPPRESSION_RULE"]] if published else None
    with click.progressbar(length=2, label="Counting from facets", file=sys.stderr) as bar:
        found = levels.month(month)
        bar.update(1)
        data = exports.build(found, kind, chosen)
        bar.update(1)
    path = Path(out or exports.filename(month, kind, published))
    path.write_bytes(data)
    click.echo(
        f"Wrote {'published' if published else 'internal (exact)'} figures for {month_text} to {path}.", err=True
    )


# --- retention and erasure --------------------------------------------------------------


@mantra_cli.command("erase")
@click.argument("reference")
@click.option("--reason", required=True, help="why, in a few words (kept in the audit trail): never what it said")
@click.option("--yes", is_flag=True, help="do not ask to confirm")
def erase_command(reference, reason, yes):
    """Erase one report's content now (a reporter's right to erasure, asked
    through a partner): every key wrap, the sealed content, messages, notes
    and files, then its shred key. Its coded answers stay, for the figures."""
    report = db.session.scalar(sa.select(Report).where(Report.reference == reference.strip().upper()))
    if report is None:
        raise click.ClickException(f"no report {reference}")
    if report.erased_at is not None:
        shredding.shred([report.shred_id] if report.shred_id else [])  # the key store may have been out of reach
        click.echo(f"{report.reference} was erased on {report.erased_at:%d %B %Y}.")
        return
    if not yes:
        click.confirm(f"Erase the content of {report.reference}? Nobody will be able to read it again", abort=True)
    erased = retention.erase(report, reason.strip()[:200])
    db.session.commit()
    shredded = retention.shred_keys([erased])
    click.echo(
        f"Erased {erased.reference}: {erased.wraps} key wraps, {erased.messages} messages, "
        f"{erased.notes} notes, {erased.files} files; shred key {'deleted' if shredded else 'already gone'}."
    )


@mantra_cli.command("retention")
@click.option("--apply", "apply_now", is_flag=True, help="erase what was planned a day ago and is still due")
def retention_command(apply_now):
    """What the retention rules would erase (a dry run), or, with --apply, erase it.
    The worker's daily pass does the same: it plans, then erases a day later."""
    now = utcnow()
    if apply_now:
        erased = retention.apply(now)
        db.session.commit()
        retention.shred_keys(erased)
        click.echo(f"Erased {len(erased)} reports: " + (", ".join(e.reference for e in erased) or "none"))
        return
    found = retention.due(now)
    if not found:
        click.echo("Nothing is due for erasure.")
    for report, rule in found:
        when = f"planned for {report.erase_after:%d %B %Y %H:%M}" if report.erase_after else "not planned yet"
        click.echo(f"{report.reference}  rule: {rule}  {when}")
    db.session.rollback()
