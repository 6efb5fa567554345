"""The forms of the administration pages for partners and areas (a routing rule's are in rule_forms.py)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ..models import AreaKind, PartnerKind
from ..web.forms import ChoiceField, check_email, submit_button, text

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
MAX_HOURS = 240  # ten working days: longer than that is not a deadline anyone keeps
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

PARTNER_KIND_LABELS = {
    PartnerKind.AGENCY: _l("Agency"),
    PartnerKind.CENTRE: _l("Third-party reporting centre"),
}
AREA_KIND_LABELS = {
    AreaKind.NEIGHBOURHOOD: _l("Part of Oxford"),
    AreaKind.ONLINE: _l("Online"),
    AreaKind.OUTSIDE: _l("Outside Oxford"),
}


def _slug(field):
    if field.data and not (len(field.data) <= 64 and SLUG.fullmatch(field.data)):
        raise ValidationError(
            _l("The short name must use only lowercase letters, numbers and hyphens, like east-oxford")
        )


def hours(field) -> int | None:
    """The whole number of hours typed, or None (and an error beside the field)."""
    typed = (field.data or "").strip()
    if not typed:
        field.errors.append(_l("Enter the deadline in hours"))
        return None
    if not (typed.isascii() and typed.isdigit()):
        field.errors.append(_l("Enter the deadline as a whole number of hours, like 24"))
        return None
    if not 1 <= int(typed) <= MAX_HOURS:
        field.errors.append(_l("The deadline must be between 1 and %(max)d hours", max=MAX_HOURS))
        return None
    return int(typed)


class PartnerForm(FlaskForm):
    """What an administrator may change about a partner. Its short name, kind,
    police status and key are not here: the worker pins them."""

    name = text(_l("Name"), 200, required=_l("Enter the organisation’s name"))
    ack_sla_hours = text(
        _l("Acknowledgement deadline, in hours"),
        10,
        hint=_l(
            "Counted on working days only: weekends and bank holidays do not count, so 24 hours from Friday "
            "at 3pm ends on Monday at 3pm. 24 hours is 1 working day. A whole number from 1 to %(max)d.",
            max=MAX_HOURS,
        ),
        short=_l("The deadline"),
    )
    urgent_ack_sla_hours = text(
        _l("Deadline when it is still happening, in hours"),
        10,
        hint=_l("Counted on the clock, weekends included. No longer than the acknowledgement deadline."),
        short=_l("The deadline"),
    )
    duty_email = text(
        _l("Duty email address (optional)"),
        254,
        hint=_l("Told of each new referral. The email says only that there is one, never what it is about."),
        short=_l("The duty email address"),
    )
    duty_lead_email = text(
        _l("Duty lead email address (optional)"),
        254,
        hint=_l("Told when a referral is not acknowledged in time. If empty, the duty email address is told."),
        short=_l("The duty lead email address"),
    )
    serves_students = ChoiceField(
        _l("Is it a university or college?"),
        YES_NO,
        _l("Select yes if it is a university or college"),
        description=_l("People reporting who are students are asked which one they attend."),
    )
    # A reporting centre's details for the public pages: the form keeps them for centres only.
    public_address = text(
        _l("Address (optional)"),
        300,
        area=True,
        hint=_l("Where people can come to report in person, on as many lines as it needs."),
        short=_l("The address"),
    )
    public_phone = text(_l("Phone number (optional)"), 40, short=_l("The phone number"))
    opening_hours = text(
        _l("Opening hours (optional)"),
        300,
        area=True,
        hint=_l("For example, Monday to Friday, 9am to 5pm."),
        short=_l("The opening hours"),
    )
    active = ChoiceField(
        _l("Is it active?"),
        YES_NO,
        _l("Select yes if it is active"),
        description=_l("An inactive organisation receives no new reports. Its referrals stay as they are."),
    )
    default_triage = ChoiceField(
        _l("Is it the default triage partner?"),
        YES_NO,
        _l("Select yes if it is the default triage partner"),
    )
    submit = submit_button(_l("Save changes"))

    def validate_duty_email(self, field):
        check_email(field)

    def validate_duty_lead_email(self, field):
        check_email(field)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        normal, urgent = hours(self.ack_sla_hours), hours(self.urgent_ack_sla_hours)
        if normal and urgent and urgent > normal:
            self.urgent_ack_sla_hours.errors.append(
                _l("The deadline when it is still happening must be no longer than the acknowledgement deadline")
            )
        return valid and not any(f.errors for f in self)


class NewPartnerForm(FlaskForm):
    name = text(_l("Name"), 200, required=_l("Enter the organisation’s name"))
    slug = text(
        _l("Short name"),
        64,
        required=_l("Enter a short name"),
        hint=_l(
            "Used in commands such as pinning its key. Lowercase letters, numbers and hyphens, like "
            "east-oxford-centre. It cannot be changed later."
        ),
    )
    kind = ChoiceField(
        _l("What kind of organisation is it?"),
        list(PARTNER_KIND_LABELS.items()),
        _l("Select what kind of organisation it is"),
    )
    is_police = ChoiceField(
        _l("Is it the police?"),
        YES_NO,
        _l("Select yes if it is the police"),
        description=_l(
            "The police receive a report only with consent to share it with the police. This cannot be changed "
            "later: it is pinned with the organisation’s key."
        ),
    )
    submit = submit_button(_l("Add partner"))

    def validate_slug(self, field):
        _slug(field)

    def validate_is_police(self, field):
        if field.data == "yes" and self.kind.data == PartnerKind.CENTRE:
            raise ValidationError(_l("A third-party reporting centre cannot be the police"))


class AreaForm(FlaskForm):
    """A new area (all of it), or an area renamed (its name only)."""

    name = text(_l("Name"), 120, required=_l("Enter the area’s name"))
    slug = text(
        _l("Short name (optional)"),
        64,
        hint=_l(
            "Routing rules name areas by it. Lowercase letters, numbers and hyphens. Leave it empty to make one "
            "from the name. It cannot be changed later."
        ),
        short=_l("The short name"),
    )
    kind = ChoiceField(
        _l("What kind of area is it?"),
        list(AREA_KIND_LABELS.items()),
        _l("Select what kind of area it is"),
    )
    submit = submit_button(_l("Save"))

    def validate_slug(self, field):
        _slug(field)
