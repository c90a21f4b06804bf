"""The floor for ``make bench``: a Flask app whose one endpoint answers ``ok``.

Served under the same gunicorn settings as the service (gunicorn.conf.py),
it measures what gunicorn and Flask cost on their own, so the service's
throughput can be read as a fraction of it on any machine:
``gunicorn -c gunicorn.conf.py --pythonpath bench bare_app:app``.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ok() -> str:
    """Nothing but the framework's own work."""
    return "ok"
