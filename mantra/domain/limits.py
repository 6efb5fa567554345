"""Every limit a person can meet, stated once. Messages that mention a limit
are rendered from these values, never typed with the number in them.
(The whole-request size is the MAX_CONTENT_LENGTH setting.)"""

from __future__ import annotations

from datetime import timedelta

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB  # one evidence file
MAX_FILES = 5  # evidence files sent with a report
MAX_FILES_PER_REPORT = 20  # evidence files a report can ever hold, follow-up messages included
MAX_PEOPLE = 20  # people described on the people page
MAX_PIXELS = 40_000_000  # an image, decoded

DRAFT_IDLE = timedelta(hours=2)  # answers in progress are deleted after this without a saved answer
SENT_HELD = timedelta(minutes=30)  # a sent report's receipt code can be shown again (to its sender) for this long
FOLLOWUP_IDLE = timedelta(minutes=20)  # a follow-up session ends after this without activity
FOLLOWUP_MAX = timedelta(minutes=60)  # ... and this long after the code was entered, however active
CENTRE_IDLE = timedelta(minutes=30)  # centre computers are often shared
CENTRE_MAX = timedelta(hours=8)  # a centre sign-in ends after this, however active (a working day)
# How long reports are kept: the partnership's retention schedule, stated in the
# privacy notice (applied by the retention rules of the retention issue).
KEEP_CRIME_YEARS = 6  # a crime report, after its referrals are closed
KEEP_INCIDENT_MONTHS = 12  # a non-crime hate incident's personal details, unless a partner recorded a reason
STAFF_IDLE = timedelta(minutes=30)  # a partner member's sign-in ends after this without activity
STAFF_MAX = timedelta(hours=10)  # ... and this long after signing in, however active
TWO_FACTOR_WAIT = timedelta(minutes=5)  # the second factor must follow the password within this
LOCK_AFTER = 5  # wrong passwords in a row before an account is locked
LOCK_FOR = timedelta(minutes=15)


def megabytes(n_bytes: int) -> int:
    return n_bytes // MB


def minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def hours(span: timedelta) -> int:
    return int(span.total_seconds() // 3600)
