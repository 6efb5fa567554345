"""Partner staff: the referral inbox and the case workflow (staff host only)."""
