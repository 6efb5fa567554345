"""gunicorn settings for every way MANTRA is served: bin/run-dev, production,
the benchmarks and the test that checks what gunicorn logs."""

import logging
import os
import re

# No access log: its lines would hold reporters' addresses and browsers.
accesslog = None
errorlog = "-"
loglevel = "warning"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn 27 opens a control socket shared by every instance a user runs;
# MANTRA needs none, and several instances run side by side in tests.
control_socket_disable = True

# gunicorn's error log names the client address of a malformed request
# ("Invalid request from ip=..."): take every address out of every line.
_ADDRESS = re.compile(r"ip=\S+|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\b")


class _NoAddresses(logging.Filter):
    def filter(self, record):
        record.msg, record.args = _ADDRESS.sub("[address removed]", record.getMessage()), ()
        return True


def on_starting(server):
    server.log.error_log.addFilter(_NoAddresses())
