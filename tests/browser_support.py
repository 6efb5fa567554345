"""Browser fixtures (live server, headless Chromium, axe-core)."""
