"""gunicorn entry point: `gunicorn wsgi:app`."""

from mantra import create_app

app = create_app()
