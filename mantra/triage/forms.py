"""The staff forms of the triage room."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from ..models import KEEP_REASONS, OUTCOME_LABELS
from ..web.forms import ChoiceField, ChoicesField, ListField, clean_text, submit_button, text
from .labels import ASK_LABELS


class CodeForm(FlaskForm):
    code = StringField(
        _l("Security code"),
        widget=GovTextInput(),
        filters=[clean_text],
        description=_l("The 6-digit code from your authenticator app, or one of your recovery codes."),
        validators=[InputRequired(message=_l("Enter the security code")), Length(max=20)],
    )
    submit = submit_button(_l("Sign in"))


class MessageForm(FlaskForm):
    body = text(
        _l("Message to the reporter"),
        5000,
        area=True,
        required=_l("Enter your message"),
        hint=_l(
            "They read it when they sign in with their receipt code. If they asked for news emails, they get one "
            "saying only that there is news."
        ),
        short=_l("Your message"),
    )
    send = submit_button(_l("Send message"))


class AssignForm(FlaskForm):
    assignee = ListField(_l("Assigned to"), [])
    assign = submit_button(_l("Assign"))


class CloseForm(FlaskForm):
    outcome = ChoiceField(_l("Outcome"), list(OUTCOME_LABELS.items()), _l("Select the outcome"))
    close = submit_button(_l("Close the referral"))


class KeepForm(FlaskForm):
    reason = ChoiceField(
        _l("Is there a reason to keep this record?"),
        [*KEEP_REASONS.items(), ("none", _l("No: erase it when the short period is over"))],
        _l("Select whether there is a reason to keep this record"),
    )
    keep = submit_button(_l("Save"))


class NoteForm(FlaskForm):
    note = text(
        _l("Add a note"),
        5000,
        area=True,
        required=_l("Enter your note"),
        short=_l("Your note"),
    )
    add_note = submit_button(_l("Add note"))


class AskForm(FlaskForm):
    questions = ChoicesField(_l("What do you need to know?"), list(ASK_LABELS.items()), None)
    extra = text(
        _l("Anything else to ask (optional)"),
        2000,
        area=True,
        hint=_l("The questions you tick are put into the message for you, followed by what you write here."),
    )
    ask = submit_button(_l("Ask the reporter"))

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not self.questions.data and not self.extra.data:
            self.questions.errors.append(_l("Select a question or write one"))
            return False
        return True


class ReferOnForm(FlaskForm):
    partner = ListField(_l("Refer to"), [])
    refer = submit_button(_l("Refer on"))


class LinkForm(FlaskForm):
    """Link (or unlink) another referral's report as the same incident."""

    other = HiddenField()
