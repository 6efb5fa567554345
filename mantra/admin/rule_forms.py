"""The administration forms: a routing rule, and a report's answers to preview
where it would go. One field per facet a rule can test (models.RULE_FACETS),
named after it, so the conditions are read off the form by name."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from ..domain.rules import FLAGS, MANY
from ..models import (
    CHANNEL_LABELS,
    KIND_LABELS,
    REPORTER_ROLE_LABELS,
    RULE_FACETS,
    STRAND_LABELS,
    TYPE_LABELS,
    Channel,
    IncidentType,
    ReporterRole,
    RoutingRule,
    RuleError,
    check_conditions,
)
from ..web.forms import ChoiceField, ChoicesField, ListField, submit_button, text

# What each facet is called on the rules pages, in a few words.
FACET_LABELS = {
    "strands": _l("Perceived motivation"),
    "kinds": _l("What happened"),
    "incident_type": _l("Type of incident"),
    "channel": _l("How it was reported"),
    "reporter_role": _l("Reported by"),
    "area": _l("Area"),
    "student_at": _l("Student at"),
    "consent_police": _l("Police may be told"),
    "consent_partners": _l("Other organisations may be told"),
    "may_contact": _l("The reporter may be contacted"),
    "flag_student": _l("The person is a student"),
    "flag_council_tenant": _l("The person is a council tenant"),
    "flag_ongoing_risk": _l("It is still happening"),
}
assert FACET_LABELS.keys() == RULE_FACETS.keys()  # a new facet must be offered to administrators too

# The words for each value of the facets with a fixed list of values (areas
# and universities come from the database).
VALUE_LABELS = {
    "strands": STRAND_LABELS,
    "kinds": KIND_LABELS,
    "incident_type": TYPE_LABELS,
    "channel": CHANNEL_LABELS,
    "reporter_role": REPORTER_ROLE_LABELS,
}

ANY, YES, NO = "any", "yes", "no"
ANY_OF = _l("Select all that apply. Leave them all unticked to not test this.")
CHOSEN_AT_RUN_TIME = ()  # areas, partners and universities: the view fills them in


def _any_of(name: str) -> ChoicesField:
    values = VALUE_LABELS.get(name)
    return ChoicesField(FACET_LABELS[name], list(values.items()) if values else CHOSEN_AT_RUN_TIME, description=ANY_OF)


def _any_yes_no(name: str) -> ChoiceField:
    return ChoiceField(FACET_LABELS[name], [(ANY, _l("Any")), (YES, _l("Yes")), (NO, _l("No"))], default=ANY)


class RuleForm(FlaskForm):
    name = text(
        _l("Name"),
        200,
        required=_l("Enter a name for the rule"),
        hint=_l("Only administrators see it. For example, ‘Religion, with consent, to the police’."),
        short=_l("The name"),
    )
    partner = ListField(
        _l("Send matching reports to"), CHOSEN_AT_RUN_TIME, _l("Select the organisation that receives matching reports")
    )
    strands = _any_of("strands")
    kinds = _any_of("kinds")
    incident_type = _any_of("incident_type")
    channel = _any_of("channel")
    reporter_role = _any_of("reporter_role")
    area = _any_of("area")
    student_at = _any_of("student_at")
    consent_police = _any_yes_no("consent_police")
    consent_partners = _any_yes_no("consent_partners")
    may_contact = _any_yes_no("may_contact")
    flag_student = _any_yes_no("flag_student")
    flag_council_tenant = _any_yes_no("flag_council_tenant")
    flag_ongoing_risk = _any_yes_no("flag_ongoing_risk")
    # Shown once a rule without conditions is refused, or when one already is.
    match_all = ChoicesField(
        _l("Match every report"),
        [(YES, _l("Yes, send every report to this organisation"))],
        description=_l("A rule with no conditions matches every report. That is almost always a mistake."),
    )
    save = submit_button(_l("Save rule"))

    conditions: dict

    def validate(self, extra_validators=None):
        """Each condition is checked beside its own field; a rule with none at
        all needs the box ticked."""
        if not super().validate(extra_validators):
            return False
        self.conditions, ok = {}, True
        for name in RULE_FACETS:
            field = self[name]
            if name in FLAGS:
                if field.data not in (YES, NO):
                    continue
                value = field.data == YES
            else:
                values = list(dict.fromkeys(field.data or []))
                if not values:
                    continue
                value = values if name in MANY or len(values) > 1 else values[0]
            try:
                check_conditions({name: value})
            except RuleError:
                field.errors.append(_l("Select from the options shown"))
                ok = False
                continue
            self.conditions[name] = value
        if ok and not self.conditions and YES not in (self.match_all.data or []):
            self.match_all.errors.append(
                _l("Select at least one condition, or tick the box if this rule should match every report")
            )
            ok = False
        return ok


def rule_data(rule: RoutingRule) -> dict:
    """A saved rule as the form's starting answers."""
    data = {"name": rule.name, "partner": str(rule.partner_id), "match_all": [] if rule.conditions else [YES]}
    for name, wanted in rule.conditions.items():
        if name in FLAGS:
            data[name] = YES if wanted else NO
        else:
            data[name] = wanted if isinstance(wanted, list) else [wanted]
    return data


def _one_of(name: str, default) -> ChoiceField:
    return ChoiceField(FACET_LABELS[name], list(VALUE_LABELS[name].items()), default=default)


def _yes_no(name: str) -> ChoiceField:
    return ChoiceField(FACET_LABELS[name], [(YES, _l("Yes")), (NO, _l("No"))], default=NO)


class PreviewForm(FlaskForm):
    """A report's answers (facets only). Read from the query string: it
    changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    strands = ChoicesField(
        FACET_LABELS["strands"], list(STRAND_LABELS.items()), description=_l("Select all that apply")
    )
    kinds = ChoicesField(FACET_LABELS["kinds"], list(KIND_LABELS.items()), description=_l("Select all that apply"))
    incident_type = _one_of("incident_type", IncidentType.NOT_SURE)
    channel = _one_of("channel", Channel.ONLINE_SELF)
    reporter_role = _one_of("reporter_role", ReporterRole.VICTIM)
    area = ListField(FACET_LABELS["area"], CHOSEN_AT_RUN_TIME)
    student_at = ListField(FACET_LABELS["student_at"], CHOSEN_AT_RUN_TIME)
    consent_police = _yes_no("consent_police")
    consent_partners = _yes_no("consent_partners")
    may_contact = _yes_no("may_contact")
    flag_student = _yes_no("flag_student")
    flag_council_tenant = _yes_no("flag_council_tenant")
    flag_ongoing_risk = _yes_no("flag_ongoing_risk")
    show = submit_button(_l("Show who would see it"))

    def answers(self) -> dict:
        """The answers as facet -> value, the way facets.preview_report takes them."""
        answers = {}
        for name in RULE_FACETS:
            data = self[name].data
            if name in FLAGS:
                answers[name] = data == YES
            elif data:
                answers[name] = list(data) if name in MANY else data
        return answers
