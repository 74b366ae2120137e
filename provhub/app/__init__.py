"""provhub: a provenance store service (IVOA ProvenanceDM 1.0 on W3C PROV).

``create_app(settings)`` is the Flask application factory; ``gunicorn 'provhub.app:create_app()'`` runs it
(``docker/gunicorn.conf.py`` then calls :func:`settle` in each worker, as ``provhub serve`` does).
"""

from __future__ import annotations

import atexit
import logging

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from .config import Settings

log = logging.getLogger("provhub")


class BodyJSON(DefaultJSONProvider):
    """JSON request bodies (``request.get_json``) are read as posted documents are
    (:func:`provhub.provdm.formats.load_json`): too deep, a huge integer or a lone surrogate is a 400
    with where, not an error of the service."""

    def loads(self, s, **kwargs):
        from provhub.provdm.formats import load_json

        return load_json(s.decode("utf-8") if isinstance(s, (bytes, bytearray)) else s, what="the JSON body")


def create_app(settings: Settings | None = None, *, store=None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json = BodyJSON(app)
    app.config["PROVHUB_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False

    # Every part by name: a missing module is an ImportError here, at start (without
    # provhub.app.security, writes would otherwise stop needing a token).
    from . import errors, security, web
    from .api import (
        audit,
        datalink,
        documents,
        fits,
        health,
        identity,
        lineage,
        obscore,
        openapi,
        provsap,
        questions,
        vosi,
    )
    from .web import compare
    from .stores import open_store

    if store is None:
        store = open_store(settings.store_url, settings)
        atexit.register(store.close)
    app.extensions["provhub.store"] = store
    errors.register(app)

    blueprints = (
        documents,
        lineage,
        provsap,
        datalink,
        obscore,
        health,
        vosi,
        openapi,
        fits,
        audit,
        identity,
        questions,
    )
    for module in (*blueprints, web, compare):
        app.register_blueprint(module.bp)
    security.init_app(app)
    return app


def settle() -> None:
    """Call once a serving process has made its app, before it answers requests.

    ``gc.freeze()`` moves the objects made at start-up (modules, routes, settings, the store's
    driver) out of the cyclic collector's passes. A full pass otherwise walks all of them, about
    85,000: a 29 ms pause every 30 or so large lineage answers, which is what their p95 showed.
    Objects made later are collected as usual."""
    import gc

    gc.collect()
    gc.freeze()
