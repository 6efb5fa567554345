"""The question pages' forms, with messages in GOV.UK voice. Each field is a
question; the steps (steps.py) say which page asks it and where it is sealed."""

from __future__ import annotations

import unicodedata
from datetime import date

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovFileInput, GovSubmitInput
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import ValidationError

from ..domain.limits import MAX_FILE_BYTES, MAX_FILES, megabytes
from ..models import AGE, ETHNICITY, KIND_LABELS, PERSON_ROLES, RELIGION, SEXUAL_ORIENTATIONS, STRAND_LABELS
from ..web.forms import ChoiceField, ChoicesField, ListField, check_email, clean_text, honeypot, text
from ..web.forms import submit_button as _submit

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]
YES_NO_NOT_SURE = YES_NO + [("not_sure", _l("Not sure"))]
PREFER_NOT = ("prefer_not_to_say", _l("Prefer not to say"))


class WhoForm(FlaskForm):
    who = ChoiceField(
        _l("Who are you reporting as?"),
        [
            ("victim", _l("It happened to me")),
            ("witness", _l("I saw it happen (a witness)")),
            ("on_behalf", _l("I am reporting for someone else, with their knowledge")),
            ("centre_staff", _l("I work at a third-party reporting centre")),
        ],
        _l("Select who you are reporting as"),
    )
    submit = _submit()


class WhatForm(FlaskForm):
    kinds = ChoicesField(
        _l("What happened?"),
        [(k.value, label) for k, label in KIND_LABELS.items()],
        _l("Select what happened"),
        description=_l("Select all that apply."),
    )
    submit = _submit()


class WhyForm(FlaskForm):
    strands = ChoicesField(
        _l("Why do you think it happened?"),
        [(s.value, label) for s, label in STRAND_LABELS.items()],
        _l("Select why you think it happened, or select ‘Not sure’"),
        description=_l("You do not need proof. Select everything that you, or anyone else, think played a part."),
    )
    submit = _submit()

    def validate_strands(self, field):
        if "not_sure" in (field.data or []) and len(field.data) > 1:  # 'Not sure' is a choice of its own
            raise ValidationError(_l("Select why you think it happened, or select ‘Not sure’, not both"))


class WhenForm(FlaskForm):
    day = StringField(_l("Day"), filters=[clean_text])
    month = StringField(_l("Month"), filters=[clean_text])
    year = StringField(_l("Year"), filters=[clean_text])
    time_of_day = ChoiceField(
        _l("What time of day was it? (optional)"),
        [
            ("morning", _l("Morning")),
            ("afternoon", _l("Afternoon")),
            ("evening", _l("Evening")),
            ("night", _l("Night")),
            ("not_sure", _l("Not sure")),
        ],
        None,
    )
    still_happening = ChoiceField(_l("Is it still happening?"), YES_NO_NOT_SURE, _l("Select if it is still happening"))
    submit = _submit()

    date_wrong: tuple[str, ...] = ()

    def validate(self, extra_validators=None):
        """Month and year are needed, the day is optional. The error goes on the
        first part that is wrong, and only the wrong parts are highlighted."""
        valid = super().validate(extra_validators)
        wrong, message = self._date_problem()
        if message:
            self.date_wrong = wrong
            getattr(self, wrong[0]).errors.append(message)
            return False
        return valid

    def _date_problem(self) -> tuple[tuple[str, ...], object]:
        # NFKC turns full-width and other digit forms into 0-9.
        parts = {
            n: unicodedata.normalize("NFKC", getattr(self, n).data or "").strip() for n in ("day", "month", "year")
        }
        missing = tuple(n for n in ("month", "year") if not parts[n])
        if len(missing) == 2:
            return missing, _l("Enter the month and year it happened, even if you are not sure of the day")
        if missing == ("month",):
            return missing, _l("Enter the month it happened")
        if missing == ("year",):
            return missing, _l("Enter the year it happened")
        widths = {"day": 2, "month": 2, "year": 4}
        not_numbers = tuple(
            n
            for n, v in parts.items()
            if v and not (v.isascii() and v.isdigit() and len(v.lstrip("0") or "0") <= widths[n])
        )
        if not_numbers:
            return not_numbers, _l("Enter the date in numbers, for example 27 3 2026, or just 3 2026")
        if len(parts["year"]) != 4:
            return ("year",), _l("Year must include 4 numbers")
        day = int(parts["day"]) if parts["day"] else None
        month, year = int(parts["month"]), int(parts["year"])
        if not 1 <= month <= 12:
            return ("month",), _l("Enter a month from 1 to 12")
        if not 1990 <= year:
            return ("year",), _l("Enter a year after 1990")
        if year > date.today().year:
            return ("year",), _l("The date must be today or in the past")
        try:
            when = date(year, month, day if day is not None else 1)
        except ValueError:
            return ("day",), _l("Enter a real day for that month")
        if when > date.today():
            return ("day", "month", "year") if day else ("month", "year"), _l("The date must be today or in the past")
        # Store the numbers as numbers: "03" and "３" become "3".
        for name, value in (("day", day), ("month", month), ("year", year)):
            getattr(self, name).data = "" if value is None else str(value)
        return (), None


class WhereForm(FlaskForm):
    where = ChoiceField(
        _l("Where did it happen?"),
        [
            ("online", _l("Online")),
            ("oxford", _l("In Oxford")),
            ("outside", _l("Outside Oxford")),
            ("not_known", _l("I do not know")),
        ],
        _l("Select where it happened"),
    )
    area = ListField(
        _l("Which part of Oxford?"),
        [],
        None,  # needed only 'In Oxford': see validate()
        description=_l("If you are not sure, choose the nearest, or ‘I do not know which part of Oxford’."),
    )
    place = text(
        _l("Where exactly? (optional)"),
        500,
        area=True,
        hint=_l(
            "For example a street, a bus route, a shop or a park. Only the organisations that receive your report "
            "will see this: we show you which before you send it."
        ),
        short=_l("Where exactly"),
    )
    online_detail = text(
        _l("If it happened online: the website or app, and a link (optional)"),
        500,
        short=_l("The website or app"),
    )
    submit = _submit()

    # The answer stored for routing and statistics is `area`, an area's slug:
    # the part of Oxford, or the area standing for online or outside Oxford.
    kind_areas: dict[str, str] = {}

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        if self.where.data == "oxford":
            if not self.area.data:
                self.area.errors = [_l("Select the part of Oxford, or ‘I do not know which part of Oxford’")]
        elif self.where.data:
            self.area.data, self.area.errors = self.kind_areas.get(self.where.data, self.where.data), []
        return not any(f.errors for f in self)


class AccountForm(FlaskForm):
    narrative = text(
        _l("What happened, in your own words?"),
        10000,
        area=True,
        required=_l("Tell us what happened"),
        widget=GovCharacterCount(),
        short=_l("What happened"),
        hint=_l(
            "Include what was said or done, and anything that made you think it was because of who you are or who they thought you were."
        ),
    )
    submit = _submit()


class PersonForm(FlaskForm):
    role = ChoiceField(
        _l("Who is this person?"),
        PERSON_ROLES,
        _l("Select who this person is"),
    )
    description = text(
        _l("Describe them"),
        2000,
        area=True,
        required=_l("Describe the person, or select ‘Continue’ to skip"),
        short=_l("The description"),
        hint=_l("For example what they looked like, what they wore, a name or a vehicle, if you know it."),
    )
    add = SubmitField(_l("Add this person"), widget=GovSubmitInput())


class EvidenceForm(FlaskForm):
    file = FileField(
        _l("Upload a file"),
        description=_l(
            "Photos (JPEG, PNG, GIF or WebP), screenshots or PDF documents. Each file must be smaller than "
            "%(mb)d MB; up to %(files)d files.",
            mb=megabytes(MAX_FILE_BYTES),
            files=MAX_FILES,
        ),
        widget=GovFileInput(),
    )
    add = SubmitField(_l("Upload this file"), widget=GovSubmitInput())


class SharingForm(FlaskForm):
    consent_police = ChoiceField(
        _l("Can we share your report with the police?"),
        YES_NO,
        _l("Select yes if we can share your report with the police"),
        description=_l(
            "The police can investigate and record it as a crime. If you say no, the police will not see your report."
        ),
    )
    consent_partners = ChoiceField(
        _l("Can we share your report with other organisations that can help?"),
        YES_NO,
        _l("Select yes if we can share your report with other organisations"),
        description=_l(
            "For example the council or your university. If you say no, they will not see your report. We will "
            "show you who will see it before you send it. If one of them finds that another organisation that can "
            "help should have it too, they may pass it on: your receipt code shows you who has your report."
        ),
    )
    submit = _submit()


class SituationForm(FlaskForm):
    student = ChoiceField(_l("Are you a student?"), [], _l("Select if you are a student"))  # choices: steps.py
    council_tenant = ChoiceField(
        _l("Do you rent your home from the council?"),
        YES_NO_NOT_SURE,
        _l("Select if you rent your home from the council"),
    )
    submit = _submit()


CONTACT_DETAILS = ("methods", "email", "phone", "safe_times")  # asked only under 'Yes', dropped on 'No'


class ContactForm(FlaskForm):
    may_contact = ChoiceField(
        _l("Can we contact you about your report?"), YES_NO, _l("Select yes if we can contact you")
    )
    methods = ChoicesField(
        _l("How can we contact you? (optional)"),
        [("email", _l("Email")), ("phone", _l("Phone call")), ("text", _l("Text message"))],
        None,
    )
    email = text(
        _l("Email address (optional)"),
        254,
        hint=_l("We will only send a short message asking you to check your report; never what you wrote."),
        short=_l("Email address"),
    )
    phone = text(
        _l("Phone number (optional)"),
        30,
        hint=_l("For example 01632 960 001 or 07700 900 982. For international numbers include the country code."),
    )
    safe_times = text(
        _l("When is it safe to contact you? (optional)"),
        500,
        hint=_l("For example: weekdays after 6pm, never leave a voicemail."),
        short=_l("When it is safe to contact"),
    )
    news = ChoiceField(
        _l("Would you like an email when there is news about your report? (optional)"),
        YES_NO,
        None,
        description=_l(
            "We will only write to say there is news, at most once a day, and ask you to sign in with your "
            "receipt code. We never say what it is about. You can say yes even if we cannot contact you, and "
            "without giving your name. We delete the address when your report is closed, or sooner if you ask."
        ),
    )
    news_email = text(
        _l("Email address for news"),
        254,
        hint=_l(
            "Only the part of this service that sends these emails can read this address. The organisations "
            "handling your report never see it."
        ),
    )
    language = text(_l("Which language would you like us to use? (optional)"), 100, short=_l("Language"))
    access_needs = text(
        _l("Do you have any access needs? (optional)"),
        1000,
        area=True,
        hint=_l("For example British Sign Language, large print, or an interpreter."),
        short=_l("Access needs"),
    )
    submit = _submit()

    def validate(self, extra_validators=None):
        """Details revealed under an answer count only with that answer: on 'No'
        they are dropped, typed or not, and never stop the page."""
        super().validate(extra_validators)
        if self.may_contact.data != "yes":
            for name in CONTACT_DETAILS:
                getattr(self, name).data = [] if name == "methods" else None
                getattr(self, name).errors = []
        elif not (self.email.data or self.phone.data or self.email.errors or self.phone.errors):
            self.email.errors = [_l("Enter an email address or phone number so we can contact you, or select no")]
        if self.news.data != "yes":
            self.news_email.data, self.news_email.errors = None, []
        elif not (self.news_email.data or self.news_email.errors):
            self.news_email.data = self.email.data
            if not self.news_email.data:
                self.news_email.errors = [_l("Enter an email address for the news emails, or select no")]
        return not any(f.errors for f in self)

    def validate_email(self, field):
        check_email(field)

    def validate_news_email(self, field):
        check_email(field)

    def validate_phone(self, field):
        if field.data and not _is_phone_number(field.data):
            raise ValidationError(_l("Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"))

    def validate_methods(self, field):
        if "email" in (field.data or []) and not self.email.data:
            raise ValidationError(_l("Enter an email address, or do not select email"))
        if {"phone", "text"} & set(field.data or []) and not self.phone.data:
            raise ValidationError(_l("Enter a phone number, or do not select phone call or text message"))


def _is_phone_number(value: str) -> bool:
    """Numbers as people write them (GOV.UK's telephone pattern): spaces,
    dashes, dots, brackets, +44 (0) 1865 ..., 0044, or any country's number
    with its code. phonenumbers knows each country's lengths."""
    try:
        number = phonenumbers.parse(value.replace("(0)", ""), "GB")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def _monitoring(label, options):
    return ListField(label, [("", _l("Select an answer (optional)"))] + options + [PREFER_NOT])


class AboutForm(FlaskForm):
    name = text(
        _l("Your name (optional)"), 200, hint=_l("You can leave this blank to stay anonymous."), short=_l("Name")
    )
    age = _monitoring(_l("Age (optional)"), AGE)
    ethnicity = _monitoring(_l("Ethnic group (optional)"), ETHNICITY)
    religion = _monitoring(_l("Religion or belief (optional)"), RELIGION)
    sexual_orientation = _monitoring(_l("Sexual orientation (optional)"), SEXUAL_ORIENTATIONS)
    disability = _monitoring(
        _l("Do you consider yourself disabled? (optional)"), [("yes", _l("Yes")), ("no", _l("No"))]
    )
    trans = _monitoring(
        _l("Is your gender the same as the sex you were registered at birth? (optional)"),
        [("yes", _l("Yes")), ("no", _l("No"))],
    )
    submit = _submit()


class CentreConsentForm(FlaskForm):
    person_consented = ChoiceField(
        _l("Has the person agreed to you making this report for them?"),
        [("yes", _l("Yes, they agreed")), ("no", _l("No"))],
        _l("Select yes if the person agreed to this report"),
    )
    submit = _submit()


class SubmitReportForm(FlaskForm):
    website = honeypot()
    # A one-time token made with each 'Check your answers' page: only a send
    # with it is shown the confirmation (and receipt code) again, never a
    # browser that merely holds a copy of the session cookie.
    send_token = HiddenField()
    submit = _submit(_l("Send report"))
