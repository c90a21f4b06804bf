"""``/brand.css``: the site's accent colour for the pages (auth_service/branding.py).

A stylesheet of its own rather than an inline style, which the Content-Security-Policy
(style-src 'self') would refuse; it depends on the configuration alone, so browsers
may keep it for an hour.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app
from jinja2 import ChoiceLoader, FileSystemLoader

from auth_service import branding
from auth_service.extensions import limiter

log = logging.getLogger(__name__)
bp = Blueprint("brand", __name__)


def init_app(app: Flask) -> None:
    """The site's own templates before ours (AUTH_TEMPLATE_FOLDER), ``brand`` in every
    template (pages, emails, the macros they import), and the brand's warnings."""
    app.jinja_env.globals["brand"] = branding.context(app.config)
    if app.config["TEMPLATE_FOLDER"]:
        app.jinja_loader = ChoiceLoader([FileSystemLoader(app.config["TEMPLATE_FOLDER"]),
                                         app.jinja_loader])
    for problem in branding.problems(app.config):
        log.warning("%s", problem)


@bp.get("/brand.css")
@limiter.exempt
def stylesheet() -> Response:
    response = Response(branding.stylesheet(current_app.config), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
