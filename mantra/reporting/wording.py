"""Questions worded for who is reporting. The forms (questions.py) speak to a
person reporting what happened to them; a witness, someone reporting for
another person, and a reporting centre's staff member are asked the same
questions about the right person, with errors and page titles to match.
Each question's answer is stored the same way whoever is asked."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from wtforms.validators import InputRequired

# Reporter roles (the 'who' answer) grouped by whose details the questions are about.
SOMEONE_ELSE = ("on_behalf", "centre_staff")  # the questions are about the person it happened to
NOT_THEM = ("witness", "on_behalf", "centre_staff")  # the reporter is not the person it happened to


@dataclass(frozen=True)
class Wording:
    label: object = None
    hint: object = None
    required: object = None  # the message when the question is not answered


# (page, question) -> [(roles, wording)]: the first entry naming the role applies.
QUESTIONS: dict[tuple[str, str], list[tuple[tuple[str, ...], Wording]]] = {
    ("account", "narrative"): [
        (
            NOT_THEM,
            Wording(
                hint=_l(
                    "Include what was said or done, and anything that made you think it was because of who the "
                    "person is, or who they were thought to be."
                )
            ),
        )
    ],
    ("sharing", "consent_police"): [
        (
            SOMEONE_ELSE,
            Wording(
                _l("Can we share this report with the police?"),
                _l(
                    "The police can investigate and record it as a crime. If the answer is no, the police will not "
                    "see this report. Ask the person it happened to: it is their choice."
                ),
                _l("Select yes if we can share this report with the police"),
            ),
        )
    ],
    ("sharing", "consent_partners"): [
        (
            SOMEONE_ELSE,
            Wording(
                _l("Can we share this report with other organisations that can help?"),
                _l(
                    "For example the council or their university. If the answer is no, they will not see this "
                    "report. Ask the person it happened to. We will show you who will see it before you send it. "
                    "If one of them finds that another organisation that can help should have it too, they may "
                    "pass it on: the receipt code shows who has the report."
                ),
                _l("Select yes if we can share this report with other organisations"),
            ),
        )
    ],
    ("situation", "student"): [
        (
            NOT_THEM,
            Wording(
                _l("Is the person it happened to a student?"),
                required=_l("Select if the person it happened to is a student"),
            ),
        )
    ],
    ("situation", "council_tenant"): [
        (
            NOT_THEM,
            Wording(
                _l("Does the person it happened to rent their home from the council?"),
                required=_l("Select if the person it happened to rents their home from the council"),
            ),
        )
    ],
    ("contact", "may_contact"): [
        (
            ("centre_staff",),
            Wording(
                _l("Can the organisations contact the person about this report?"),
                required=_l("Select yes if the organisations can contact the person"),
            ),
        )
    ],
    ("contact", "methods"): [(("centre_staff",), Wording(_l("How can they be contacted? (optional)")))],
    ("contact", "email"): [
        (
            ("centre_staff",),
            Wording(
                hint=_l(
                    "The organisations only send a short message asking them to check the report; never what was written."
                )
            ),
        )
    ],
    ("contact", "safe_times"): [(("centre_staff",), Wording(_l("When is it safe to contact them? (optional)")))],
    ("contact", "news"): [
        (
            ("centre_staff",),
            Wording(_l("Would the person like an email when there is news about this report? (optional)")),
        )
    ],
    ("contact", "language"): [
        (("centre_staff",), Wording(_l("Which language would they like the organisations to use? (optional)")))
    ],
    ("contact", "access_needs"): [(("centre_staff",), Wording(_l("Do they have any access needs? (optional)")))],
    ("about", "name"): [
        (
            SOMEONE_ELSE,
            Wording(_l("Their name (optional)"), _l("Leave this blank if they want to stay anonymous.")),
        )
    ],
    ("about", "disability"): [(SOMEONE_ELSE, Wording(_l("Do they consider themselves disabled? (optional)")))],
    ("about", "trans"): [
        (
            SOMEONE_ELSE,
            Wording(_l("Is their gender the same as the sex they were registered at birth? (optional)")),
        )
    ],
}

# Page titles and a line under them: whose details a page asks for, and why.
PAGES: dict[str, list[tuple[tuple[str, ...], object, object]]] = {
    "sharing": [(SOMEONE_ELSE, _l("Who can see this report"), None)],
    "situation": [(NOT_THEM, _l("About the person it happened to"), None)],
    "contact": [
        (
            ("centre_staff",),
            _l("Contacting the person"),
            _l("These are the person’s own contact details, for the organisations that receive this report."),
        )
    ],
    "about": [
        (
            ("victim",),
            _l("About you"),
            _l(
                "These questions are optional. They help the partnership see who is affected by hate crime. Only "
                "the organisations that receive your report see your answers."
            ),
        ),
        (
            ("witness",),
            _l("About you"),
            _l(
                "These questions are about you, the person making this report. They are optional, and help us "
                "check that the service reaches everyone."
            ),
        ),
        (
            SOMEONE_ELSE,
            _l("About the person it happened to"),
            _l(
                "These questions are about the person it happened to. They are optional: answer only what they are "
                "happy to share. They help the partnership see who is affected by hate crime."
            ),
        ),
    ],
}


def _for_role(entries, role: str):
    return next((entry for entry in entries if role in entry[0]), None)


def apply(page: str, form, role: str) -> None:
    """Word `form` (a step's form) for the reporter's role. The validators are
    replaced, never changed: they are shared by every form of the class."""
    for name, field in form._fields.items():
        entry = _for_role(QUESTIONS.get((page, name), []), role)
        if entry is None:
            continue
        wording = entry[1]
        if wording.label is not None:
            field.label.text = wording.label
        if wording.hint is not None:
            field.description = wording.hint
        if wording.required is not None:
            field.validators = [InputRequired(message=wording.required)]
            field._required_message = wording.required
    page_entry = _for_role(PAGES.get(page, []), role)
    form.page_title, form.page_intro = page_entry[1:] if page_entry else (None, None)
