"""Who reads a report, said the same way on every page that says it (the
sharing question, 'Where', 'Check your answers', the privacy notice), and
true to the routing rules (domain/rules.py): each partner on 'Who will see
your report' comes with the reason it is there."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Partner
from . import bp

POLICE_EXCEPTION = _l(
    "The organisations that read a report tell the police without agreement only if they believe someone’s "
    "life is in danger, or that a child or an adult at risk could be seriously harmed."
)


def fallback_partner() -> Partner | None:
    """The partnership's default triage partner: it reads a report nobody else would."""
    return db.session.scalar(sa.select(Partner).where(Partner.is_default_triage, Partner.active))


def fallback_text():
    partner = fallback_partner()
    if partner is None:
        return None
    return _l(
        "Every report is read by at least one organisation. If your answers mean that no other organisation "
        "receives it (for example, if you answer no to both questions), it goes to %(partner)s only, so that "
        "someone can still check that everyone is safe and offer support. They do not pass it on without agreement.",
        partner=partner.name,
    )


def reason(partner: Partner, answers: dict, centre_id: int | None):
    """Why this partner is on the list, in the words the questions used."""
    if partner.id == centre_id:
        return _l("The reporting centre making this report.")
    if partner.is_police:
        return _l("Because the answer to sharing with the police was yes.")
    if answers.get("consent_partners") != "yes":
        return _l(
            "It reads reports that no other organisation receives, to check that everyone is safe and offer support."
        )
    return _l("Because the answer to sharing with other organisations that can help was yes.")


@bp.app_context_processor
def _sharing():
    return {"police_exception": POLICE_EXCEPTION, "fallback_text": fallback_text, "fallback_partner": fallback_partner}
