"""Where the templates, migrations and gunicorn.conf.py are, installed or in a source checkout.

A wheel carries them inside the package (pyproject's force-include); an
editable install or a plain checkout keeps them at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def folder(name: str) -> Path:
    """The ``templates`` or ``migrations`` folder that exists for this installation."""
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / name


def file(name: str) -> Path:
    """A top-level file that ships with the package too (``gunicorn.conf.py``)."""
    inside = PACKAGE_DIR / name
    if inside.is_file():
        return inside
    return PACKAGE_DIR.parent / name
