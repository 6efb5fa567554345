"""The worker side: route, sweep, notify, deadlines, exports, retention.
Jobs import only domain, models and crypto (see .importlinter)."""
