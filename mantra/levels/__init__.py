"""Coordinators: reporting levels, the dashboard and monthly exports, from facets only (staff host only)."""
