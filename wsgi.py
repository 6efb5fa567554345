"""gunicorn entry point: `gunicorn wsgi:app`. The web tier only: a process
started as a worker (which may read private keys) never serves requests."""

import os
import sys

if os.environ.get("MANTRA_PROCESS", "web") != "web":
    sys.exit(
        "wsgi.py serves the web tier: start gunicorn with MANTRA_PROCESS=web (or unset), on a host without private keys"
    )

from mantra import create_app  # noqa: E402

app = create_app()
