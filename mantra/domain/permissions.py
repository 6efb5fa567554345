"""What each staff role may do. Every staff route declares one permission
(web/staff.py refuses a route that declares none), and this table is the
only place a role is turned into what it allows."""

from __future__ import annotations

import enum

from ..models import PartnerKind, StaffRole, StaffUser


class Permission(enum.StrEnum):
    SIGN_IN = "sign_in"  # the sign-in pages: nobody is signed in yet
    OWN_ACCOUNT = "own_account"  # any signed-in member: password, recovery codes, sign out
    WORK_REFERRALS = "work_referrals"  # the member's own partner's referrals
    PARTNER_ADMIN = "partner_admin"  # the own partner's members, their key grants, its audit trail
    SYSTEM_ADMIN = "system_admin"  # partners, users, areas, routing rules, the whole audit trail
    LEVELS = "levels"  # the reporting-levels dashboard and exports (facets only)


ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.TRIAGE: frozenset({Permission.OWN_ACCOUNT, Permission.WORK_REFERRALS}),
    StaffRole.PARTNER_ADMIN: frozenset({Permission.OWN_ACCOUNT, Permission.WORK_REFERRALS, Permission.PARTNER_ADMIN}),
    StaffRole.COORDINATOR: frozenset({Permission.OWN_ACCOUNT, Permission.LEVELS}),
    # A system administrator runs the partnership's set-up, never a partner's
    # casework: no referral is readable with this role alone.
    StaffRole.ADMIN: frozenset({Permission.OWN_ACCOUNT, Permission.SYSTEM_ADMIN}),
    StaffRole.CENTRE: frozenset(),  # centre staff sign in to the centre pages, not to the staff side
}


def allowed(user: StaffUser) -> frozenset[Permission]:
    """What this member may do now: nothing once inactive, and nothing on the
    staff side for a reporting centre's members."""
    if not user.active or user.partner.kind == PartnerKind.CENTRE:
        return frozenset()
    return ROLE_PERMISSIONS[user.role]


def may(user: StaffUser, permission: Permission) -> bool:
    return permission in allowed(user)
