"""gunicorn settings for every way MANTRA is served: bin/run-dev, production,
the benchmarks and the test that checks what gunicorn logs."""

import os

# No access log: its lines would hold reporters' addresses and browsers.
accesslog = None
errorlog = "-"
loglevel = "warning"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn 27 opens a control socket shared by every instance a user runs;
# MANTRA needs none, and several instances run side by side in tests.
control_socket_disable = True
