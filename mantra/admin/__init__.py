"""Administrators: partners, users, areas, routing rules, retention, key grants (staff host only)."""
