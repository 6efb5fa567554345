"""The GOV.UK form kit: fields rendered by govuk-frontend-wtf widgets, with
messages in GOV.UK voice that never echo what was typed."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(value):
    """NFC-normalise and drop control and bidi-override characters."""
    if not isinstance(value, str):
        return value
    return _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()


class MaxLength(Length):
    """A length limit whose message names the field in a few words and writes
    the number as people read it in their language ("10,000", "10 000")."""

    def __init__(self, max_length: int, name):
        super().__init__(max=max_length)
        self.name = name

    def __call__(self, form, field):
        if field.data and len(field.data) > self.max:
            name = self.name or re.sub(r"\s*\([^)]*\)$", "", str(field.label.text))
            raise ValidationError(
                gettext("%(name)s must be %(max)s characters or fewer", name=name, max=format_decimal(self.max))
            )


def text(label, max_length, *, hint=None, required=None, widget=None, area=False, short=None):
    """A text question; `short` names it in errors ("Where exactly must be ...")."""
    validators = [DataRequired(message=required)] if required else [Optional()]
    validators.append(MaxLength(max_length, short))
    field = TextAreaField if area else StringField
    return field(
        label,
        description=hint,
        validators=validators,
        filters=[clean_text],
        widget=widget or (GovTextArea() if area else GovTextInput()),
    )


class _FriendlyChoice:
    """Choices whose wrong-value message is friendly and never echoes input."""

    widget_class: type

    def __init__(self, label, choices, required=None, **kw):
        super().__init__(
            label,
            choices=choices,
            widget=self.widget_class(),
            validators=[InputRequired(message=required)] if required else [Optional()],
            **kw,
        )
        self._required_message = required

    def pre_validate(self, form):
        allowed = {c[0] for c in self.choices}
        given = self.data if isinstance(self.data, list) else [self.data] if self.data else []
        if any(v not in allowed for v in given):
            raise ValidationError(self._required_message or _l("Select from the options shown"))


class ChoiceField(_FriendlyChoice, RadioField):
    """Radios: one answer."""

    widget_class = GovRadioInput


class ChoicesField(_FriendlyChoice, SelectMultipleField):
    """Checkboxes, several answers allowed."""

    widget_class = GovCheckboxesInput


class ListField(_FriendlyChoice, SelectField):
    """A select list."""

    widget_class = GovSelect


CONTINUE = _l("Continue")


def submit_button(label=CONTINUE):
    return SubmitField(label, widget=GovSubmitInput())


def honeypot():
    """A field people never see or reach (see the `honeypot` macro); bots fill it in."""
    return StringField(_l("Leave this field blank"), filters=[clean_text])


class StaffSignInForm(FlaskForm):
    """Email and password, for every kind of staff sign-in."""

    email = StringField(
        _l("Email address"),
        widget=GovTextInput(),
        filters=[clean_text],
        validators=[InputRequired(message=_l("Enter your email address")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), widget=GovPasswordInput(), validators=[InputRequired(message=_l("Enter your password"))]
    )
    submit = submit_button(_l("Sign in"))


def check_email(field):
    """An e-mail address in a usable form (normalised), or a message beside the field."""
    if field.data:
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValidationError(_l("Enter an email address in the correct format, like name@example.com")) from None


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        widget=GovPasswordInput(),
        validators=[InputRequired(message=_l("Enter your current password"))],
    )
    new = PasswordField(
        _l("New password"),
        widget=GovPasswordInput(),
        description=_l("At least %(count)d characters. A few unrelated words make a strong password.", count=12),
        validators=[
            InputRequired(message=_l("Enter a new password")),
            Length(min=12, max=200, message=_l("The new password must be between 12 and 200 characters")),
        ],
    )
    submit = submit_button(_l("Change password"))

    def validate_new(self, field):
        if field.data == self.current.data:
            raise ValidationError(_l("The new password must be different from the current one"))


MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer: a larger number is no row at all
MAX_PAGE = 100_000


class ConfirmForm(FlaskForm):
    """A button that does what its page says, and nothing more."""


def row_id(text) -> int | None:
    """A row id sent in a form or a query string: ASCII digits that fit the
    database's integers, or None (never a 500 for "²" or 99999999999999999999)."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ROW_ID else None


def page_number(args) -> int:
    """The page asked for in a list (?page=), from 1 to MAX_PAGE."""
    return min(max(row_id(args.get("page")) or 1, 1), MAX_PAGE)
