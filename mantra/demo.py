"""Demo data for a first run: Oxford's partners, areas, rules and accounts."""

from __future__ import annotations

from .models import AreaKind, PartnerKind, StaffRole

PARTNERS = [
    # slug, name, kind, facts
    (
        "tvp-oxford",
        "Thames Valley Police (Oxford)",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=4, urgent_ack_sla_hours=1, duty_email="hate-crime-duty@tvp.example", is_police=True),
    ),
    (
        "oxford-city-asb",
        "Oxford City Council anti-social behaviour team",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="asb-duty@oxford.example"),
    ),
    (
        "oxfordshire-cc",
        "Oxfordshire County Council",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="community-safety@oxfordshire.example"),
    ),
    (
        "uni-oxford",
        "University of Oxford",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="report-support@ox.example", serves_students=True),
    ),
    (
        "oxford-brookes",
        "Oxford Brookes University",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="wellbeing@brookes.example", serves_students=True),
    ),
    (
        "victim-support",
        "Oxfordshire Victim Support",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="duty@victimsupport.example", is_default_triage=True),
    ),
    (
        "lgbt-liaison",
        "LGBT+ Liaison Team",
        PartnerKind.AGENCY,
        dict(ack_sla_hours=24, duty_email="liaison@lgbt.example"),
    ),
    (
        "centre-library",
        "Oxford Central Library reporting centre",
        PartnerKind.CENTRE,
        dict(
            ack_sla_hours=48,
            duty_email="library-centre@oxford.example",
            public_address="Ground floor enquiry desk\nCentral Library, Westgate\nOxford OX1 1DJ",
            public_phone="01632 960 214",
            opening_hours="Monday to Saturday, 9am to 5pm\nThursday until 7pm",
        ),
    ),
    (
        "centre-east-oxford",
        "East Oxford Community Centre reporting centre",
        PartnerKind.CENTRE,
        dict(
            ack_sla_hours=48,
            duty_email="eocc-centre@oxford.example",
            public_address="44b Princes Street, off Cowley Road\nOxford OX4 1DD",
            public_phone="01632 960 587",
            opening_hours="Monday to Friday, 10am to 4pm\nWednesday drop-in, 6pm to 8pm",
        ),
    ),
]

AREAS = [
    (slug, name, AreaKind.NEIGHBOURHOOD)
    for slug, name in [
        ("barton", "Barton and Sandhills"),
        ("blackbird-leys", "Blackbird Leys"),
        ("carfax", "City centre (Carfax)"),
        ("cowley", "Cowley"),
        ("cowley-road", "East Oxford and Cowley Road"),
        ("headington", "Headington"),
        ("iffley", "Iffley Fields"),
        ("jericho", "Jericho and Osney"),
        ("littlemore", "Littlemore"),
        ("marston", "Marston"),
        ("northway", "Northway"),
        ("quarry", "Quarry and Risinghurst"),
        ("rose-hill", "Rose Hill"),
        ("st-clements", "St Clement's"),
        ("summertown", "Summertown"),
        ("wolvercote", "Wolvercote"),
        ("wood-farm", "Wood Farm"),
    ]
] + [
    ("online", "Online", AreaKind.ONLINE),
    ("outside", "Outside Oxford", AreaKind.OUTSIDE),
]

# Conditions on facets only. Consent is a hard limit for the police.
RULES = [
    ("Police: consent to share with the police", 10, {"consent_police": True}, "tvp-oxford"),
    (
        "Council tenants to the anti-social behaviour team",
        20,
        {"consent_partners": True, "flag_council_tenant": True},
        "oxford-city-asb",
    ),
    ("Students to their university (Oxford)", 30, {"consent_partners": True, "student_at": "uni-oxford"}, "uni-oxford"),
    (
        "Students to their university (Brookes)",
        31,
        {"consent_partners": True, "student_at": "oxford-brookes"},
        "oxford-brookes",
    ),
    (
        "Sexual orientation or transgender identity",
        40,
        {"consent_partners": True, "strands": ["sexual_orientation", "transgender"]},
        "lgbt-liaison",
    ),
    (
        "Disability: county council adult social care",
        50,
        {"consent_partners": True, "strands": ["disability"]},
        "oxfordshire-cc",
    ),
    ("Victim support offered to everyone who agrees to share", 60, {"consent_partners": True}, "victim-support"),
]

USERS = [
    # email, name, partner, role
    ("police.triage@demo.mantra", "Priya Shah (police triage)", "tvp-oxford", StaffRole.TRIAGE),
    ("police.admin@demo.mantra", "Nadia Osei (police partner administrator)", "tvp-oxford", StaffRole.PARTNER_ADMIN),
    ("asb.triage@demo.mantra", "Tom Evans (council ASB)", "oxford-city-asb", StaffRole.TRIAGE),
    ("county.triage@demo.mantra", "Grace Okafor (county council)", "oxfordshire-cc", StaffRole.TRIAGE),
    ("oxford.triage@demo.mantra", "Sam Lee (University of Oxford)", "uni-oxford", StaffRole.TRIAGE),
    ("brookes.triage@demo.mantra", "Alex Novak (Brookes)", "oxford-brookes", StaffRole.TRIAGE),
    ("support.triage@demo.mantra", "Jo Clarke (victim support)", "victim-support", StaffRole.TRIAGE),
    ("lgbt.triage@demo.mantra", "Robin Hart (LGBT+ liaison)", "lgbt-liaison", StaffRole.TRIAGE),
    ("library.centre@demo.mantra", "Fatima Begum (library centre)", "centre-library", StaffRole.CENTRE),
    ("eocc.centre@demo.mantra", "Marek Kowalski (East Oxford centre)", "centre-east-oxford", StaffRole.CENTRE),
    ("coordinator@demo.mantra", "Ruth Adams (partnership coordinator)", "victim-support", StaffRole.COORDINATOR),
    ("admin@demo.mantra", "Dev Patel (administrator)", "victim-support", StaffRole.ADMIN),
]

# Every agency starts with these reply templates; its administrator changes them.
REPLIES = [
    (
        "First contact",
        "Thank you for telling us about what happened. Someone from our team has read your report. We will "
        "write to you here within two working days, and contact you another way only if you asked us to.",
    ),
    (
        "Support on offer",
        "Thank you for your report. We can offer you support, whether or not you want anything else to happen. "
        "Reply here to tell us if you would like it, and the best way and time to reach you.",
    ),
    (
        "We cannot contact you",
        "Thank you for your report. You did not give us a way to contact you, so we will write to you here. "
        "Sign in with your receipt code to read our messages and to reply.",
    ),
]
