"""Storing a report sealed (DESIGN section 4, flow 1) and finding it again
by its receipt code (flow 4). The web tier holds public keys only.

`store_report` adds and flushes; the caller commits, then queues the report
for routing, so a failure anywhere leaves nothing half-stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..crypto import vault
from ..extensions import db
from ..models import (
    Area,
    Attachment,
    Channel,
    IncidentKind,
    IncidentType,
    Partner,
    RecipientKind,
    Report,
    ReporterRole,
    ReportKey,
    ReportKind,
    ReportStrand,
    Strand,
)
from . import audit, facets, keyring, rowids, shredding

_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
# The report's sealed columns: what a person wrote is stored in one of these groups.
SEALED_GROUPS = ("account", "contact", "monitoring")

log = logging.getLogger(__name__)


def new_reference() -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"HC-{body[:4]}-{body[4:]}"


@dataclass
class EvidenceFile:
    filename: str
    content_type: str
    data: bytes  # the screened copy: what is stored
    # SHA-256 of the bytes the person sent, before screening: with the stored
    # copy's, it shows later that a file is the one handed over. None: not recorded.
    received_sha256: str | None = None

    @property
    def stored_sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Submission:
    """A report as the journey hands it over: facets, then content."""

    channel: Channel
    reporter_role: ReporterRole
    incident_type: IncidentType
    kinds: list[IncidentKind]
    strands: list[Strand]
    incident_month: date | None
    area_id: int | None
    consent_police: bool = False
    consent_partners: bool = False
    may_contact: bool = False
    named: bool = False  # the person gave a name (for the reporting levels: named or anonymous)
    flag_student: bool = False
    student_at: str | None = None
    flag_council_tenant: bool = False
    flag_ongoing_risk: bool = False
    centre_partner_id: int | None = None
    submitted_by_id: int | None = None
    content: dict[str, dict] = field(default_factory=dict)  # sealed, by group (SEALED_GROUPS)
    # Where to send "there is news" e-mails, if the person asked for them, and in
    # which language: sealed to the notify key, never to a partner.
    news_email: str | None = None
    language: str = "en"
    evidence: list[EvidenceFile] = field(default_factory=list)  # sealed


def report_from(sub: Submission) -> Report:
    """The report's facets, not yet stored: what routing (and the preview of
    who will see it) reads."""
    return Report(
        channel=sub.channel,
        reporter_role=sub.reporter_role,
        incident_type=sub.incident_type,
        incident_month=sub.incident_month,
        area_id=sub.area_id,
        area=db.session.get(Area, sub.area_id) if sub.area_id is not None else None,
        consent_police=sub.consent_police,
        consent_partners=sub.consent_partners,
        may_contact=sub.may_contact,
        named=sub.named,
        flag_student=sub.flag_student,
        student_at=sub.student_at,
        flag_council_tenant=sub.flag_council_tenant,
        flag_ongoing_risk=sub.flag_ongoing_risk,
        centre_partner_id=sub.centre_partner_id,
        submitted_by_id=sub.submitted_by_id,
        strands=[ReportStrand(strand=s) for s in dict.fromkeys(sub.strands)],
        kinds=[ReportKind(kind=k) for k in dict.fromkeys(sub.kinds)],
    )


def report_key_info(report_id: int, recipient: RecipientKind, partner_id: int | None = None) -> bytes:
    who = f"{recipient.value}-{partner_id}" if partner_id else recipient.value
    return vault.wrap_info("report-key", report_id, who)


def wrap_for(report_id: int, locked: bytes, recipient: RecipientKind, partner_id, public, info=None) -> ReportKey:
    """The report's data key, locked under its shred key, wrapped to one recipient's public key."""
    return ReportKey(
        report_id=report_id,
        recipient=recipient,
        partner_id=partner_id,
        wrap=vault.wrap(locked, public, info or report_key_info(report_id, recipient, partner_id)),
    )


def facets_digest(report: Report) -> str:
    """A hash of the facets that decide where a report goes (and its centre)."""
    bound = {**facets.routing_facets(report), "centre": report.centre_partner_id}
    canonical = json.dumps({k: sorted(v) if isinstance(v, list) else v for k, v in bound.items()}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def intake_info(report: Report) -> bytes:
    """The intake wrap's HPKE info binds the routing facets as they were sent:
    if a database writer changes one (consent to the police, say), the wrap no
    longer opens and the worker refuses to route the report."""
    return report_key_info(report.id, RecipientKind.INTAKE) + f"/facets-{facets_digest(report)}".encode()


def notify_info(report_id: int) -> bytes:
    return vault.wrap_info("news-address", report_id)


def store_report(sub: Submission) -> tuple[Report, str]:
    """Add the sealed report and flush. Returns the report and its receipt
    code, which is shown once and never stored."""
    unknown = set(sub.content) - set(SEALED_GROUPS)
    if unknown:
        raise ValueError(f"no sealed group called {sorted(unknown)}")
    code = vault.new_receipt_code()
    receipt = vault.derive_receipt(code, keyring.receipt_salt())
    report = report_from(sub)
    report.reference = new_reference()
    report.lookup_token = receipt.lookup_token
    report.receipt_kdf = vault.ARGON2.encode()
    report.reporter_public_key = receipt.reporter_key.public.raw
    report.id = rowids.reserve(Report.__table__)  # the row id is bound into every ciphertext
    db.session.add(report)
    if report.id is None:  # no id to be had beforehand: insert first
        db.session.flush()

    data_key = vault.new_data_key()
    report.shred_id, locked = shredding.new(data_key)  # committed in the key store first: never a report without one
    for group in SEALED_GROUPS:
        value = sub.content.get(group)
        sealed = (
            None
            if value is None
            else vault.seal(data_key, json.dumps(value).encode(), table="report", row_id=report.id, field=group)
        )
        setattr(report, f"sealed_{group}", sealed)

    recipients = [
        (RecipientKind.INTAKE, None, keyring.intake_public(), intake_info(report)),
        (RecipientKind.REPORTER, None, receipt.reporter_key.public, None),
    ]
    if sub.centre_partner_id is not None:
        centre = db.session.get(Partner, sub.centre_partner_id)
        recipients.append((RecipientKind.PARTNER, centre.id, vault.PublicKey(centre.public_key), None))
    db.session.add_all(wrap_for(report.id, locked, *recipient) for recipient in recipients)
    if sub.news_email:
        address = json.dumps({"email": sub.news_email, "language": sub.language}).encode()
        report.notify_wrap = vault.wrap(address, keyring.notify_public(), notify_info(report.id))
    db.session.flush()  # the report, its facets and its wraps, in one go
    for evidence in sub.evidence:
        add_attachment(report, data_key, evidence)
    audit.record("report.submitted", report_id=report.id, actor_id=sub.submitted_by_id, channel=sub.channel.value)
    return report, code


def attachment_place(attachment: Attachment) -> str:
    """What a file's ciphertext is bound to: its row, its report and its message,
    so a file moved to another report or message in the database will not open."""
    return f"{attachment.id}/report-{attachment.report_id}/message-{attachment.message_id or 0}"


def add_attachment(report: Report, data_key: bytes, evidence: EvidenceFile, message_id=None) -> Attachment:
    attachment = Attachment(report_id=report.id, message_id=message_id, sealed_meta=b"", sealed_body=b"")
    db.session.add(attachment)
    db.session.flush()
    place = attachment_place(attachment)
    meta = json.dumps(
        {
            "filename": evidence.filename,
            "content_type": evidence.content_type,
            "received_sha256": evidence.received_sha256,
            "stored_sha256": evidence.stored_sha256,
        }
    ).encode()
    attachment.sealed_meta = vault.seal(data_key, meta, table="attachment", row_id=place, field="meta")
    attachment.sealed_body = vault.seal(data_key, evidence.data, table="attachment", row_id=place, field="body")
    return attachment


class OpenedReport:
    """A report and its data key, unlocked (by a receipt code, later by a
    partner's key). The report row itself is read only when it is needed."""

    def __init__(self, report_id: int, data_key: bytes, report: Report | None = None, locked: bytes = b""):
        self.report_id = report_id
        self.data_key = data_key
        self.locked = locked  # the data key locked under the shred key: what a wrap holds
        self._report = report
        self._opened: dict[str, dict | None] = {}

    @property
    def report(self) -> Report:
        if self._report is None:
            self._report = db.session.get(Report, self.report_id)
        return self._report

    def content(self, name: str) -> dict | None:
        """One sealed group of the report, opened once per request (VaultError if altered)."""
        if name not in self._opened:
            blob = getattr(self.report, f"sealed_{name}")
            plain = (
                vault.open_sealed(self.data_key, blob, table="report", row_id=self.report_id, field=name)
                if blob is not None
                else None
            )
            self._opened[name] = json.loads(plain) if plain is not None else None
        return self._opened[name]

    def open_or_none(self, blob: bytes, table: str, place: str, field: str) -> bytes | None:
        """Content sealed with this report's key that will not open where it is
        (moved or changed in the database) is never shown as if it were
        genuine: None, and an error in the log naming only ids."""
        try:
            return vault.open_sealed(self.data_key, blob, table=table, row_id=place, field=field)
        except vault.VaultError:
            log.error("%s %s of report %s would not open: moved or altered", table, place.split("/")[0], self.report_id)
            return None


def open_with_receipt(code_text: str) -> OpenedReport | None:
    """Find and open a report with its receipt code, or None.

    Every attempt, well-formed or not, costs the same Argon2id work whether
    or not a report exists, so timing does not tell a guesser anything.
    """
    code = vault.normalise_receipt_code(code_text)
    well_formed = code is not None
    code = code or "0" * vault.RECEIPT_DIGITS  # spend the same time on a malformed code
    found = None
    for params in vault.RECEIPT_KDF_HISTORY:  # one entry unless the cost was raised
        receipt = vault.derive_receipt(code, keyring.receipt_salt(), params)
        report = db.session.scalar(sa.select(Report).where(Report.lookup_token == receipt.lookup_token))
        if report is not None and found is None:
            found = (report, receipt)
    if found is None or not well_formed:
        return None
    report, receipt = found
    wrap = db.session.scalar(
        sa.select(ReportKey.wrap).where(ReportKey.report_id == report.id, ReportKey.recipient == RecipientKind.REPORTER)
    )
    if wrap is None:  # erased: content is gone
        return None
    try:
        return open_locked(
            report.id,
            vault.unwrap(wrap, receipt.reporter_key, report_key_info(report.id, RecipientKind.REPORTER)),
            report,
        )
    except shredding.Shredded:
        return None


def open_locked(report_id: int, locked: bytes, report: Report | None = None) -> OpenedReport:
    """The report, its data key unlocked with its shred key (Shredded once erased)."""
    shred_id = (
        report.shred_id
        if report is not None
        else db.session.scalar(sa.select(Report.shred_id).where(Report.id == report_id))
    )
    return OpenedReport(report_id, shredding.unlock(shred_id, locked), report, locked)
