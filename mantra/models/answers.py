"""The choices a person picks from in the sealed answers (people described,
equality monitoring): the journey asks with them, the referral page reads
the answers back in the same words. Values are what is sealed; never facets."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PERSON_ROLES = [
    ("responsible", _l("Someone responsible")),
    ("witness", _l("A witness")),
    ("other", _l("Someone else involved")),
]
AGE = [
    ("under_16", _l("Under 16")),
    ("16_24", _l("16 to 24")),
    ("25_34", _l("25 to 34")),
    ("35_44", _l("35 to 44")),
    ("45_54", _l("45 to 54")),
    ("55_64", _l("55 to 64")),
    ("65_plus", _l("65 or over")),
]
ETHNICITY = [
    ("asian", _l("Asian or Asian British")),
    ("black", _l("Black, Black British, Caribbean or African")),
    ("mixed", _l("Mixed or multiple ethnic groups")),
    ("white", _l("White")),
    ("other", _l("Another ethnic group")),
]
RELIGION = [
    ("none", _l("No religion")),
    ("christian", _l("Christian")),
    ("muslim", _l("Muslim")),
    ("jewish", _l("Jewish")),
    ("hindu", _l("Hindu")),
    ("sikh", _l("Sikh")),
    ("buddhist", _l("Buddhist")),
    ("other", _l("Another religion or belief")),
]
SEXUAL_ORIENTATIONS = [
    ("straight", _l("Straight or heterosexual")),
    ("gay_lesbian", _l("Gay or lesbian")),
    ("bisexual", _l("Bisexual")),
    ("other", _l("Another sexual orientation")),
]
