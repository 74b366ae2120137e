"""A store holding public and proprietary documents, for the pages' rights tests (each backend)."""

from __future__ import annotations

from provhub.app import create_app, services
from provhub.app.access import Viewer
from tests.conftest import make_settings

OPERATOR = Viewer(name="op", role="admin", principal="token:op1")


def rights_world(backend, request, tmp_path, public: tuple[str, ...], private: tuple[str, ...], **rights):
    """(app, store, settings, ids of the public documents, ids of the private ones): PROV-N texts
    ingested by an admin, the private ones proprietary to group ``hess`` (or ``rights``)."""
    settings = make_settings(backend, request, tmp_path, auth="on")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    rights = {"rights": "proprietary", "group": "hess", **rights}
    shown = [services.ingest(store, t, "provn", settings=settings, viewer=OPERATOR).id for t in public]
    hidden = [services.ingest(store, t, "provn", settings=settings, viewer=OPERATOR, **rights).id for t in private]
    return app, store, settings, shown, hidden
