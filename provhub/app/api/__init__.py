"""HTTP API blueprints and the helpers routes share."""

from __future__ import annotations

from flask import current_app, g, request

from provhub.provdm.errors import InvalidParameter, NotAcceptable


def current_store():
    return current_app.extensions["provhub.store"]


def current_settings():
    return current_app.config["PROVHUB_SETTINGS"]


def current_viewer():
    """The caller of this request (set by provhub.app.security); anonymous outside a request."""
    from ..access import ANONYMOUS

    return g.get("provhub_viewer", ANONYMOUS)


def wants_html(offered=("application/json",)) -> bool:
    """True when a browser asks for a page: Accept gives ``text/html`` a higher quality than each
    media type in ``offered`` (a browser's ``text/html,...,application/xml;q=0.9,*/*;q=0.8``);
    ``*/*``, no Accept, or a tie keep the API's answer."""
    accept = request.accept_mimetypes
    html = accept["text/html"]
    return html > 0 and all(accept[t] < html for t in offered)


def negotiate(
    offers: dict[str, str],
    default: str,
    *,
    param: str | None = None,
    names: dict[str, str] | None = None,
    media_types: dict[str, str] | None = None,
) -> str:
    """Pick a key of ``offers`` ({key: media type}) from ``?param=`` (by ``names``) or Accept.

    ``media_types`` ({media type: key}) are further types Accept may name for a key (a format's
    other media types in :mod:`provhub.provdm.registry`); the types of ``offers`` are preferred on a tie."""
    if param and request.args.get(param):
        raw = request.args[param].strip().lower()
        key = (names or {}).get(raw, raw)
        if key not in offers:
            raise NotAcceptable(
                f"unknown {param} {request.args[param]!r}; use one of {', '.join(sorted(offers))}", where=param
            )
        return key
    if not request.accept_mimetypes or request.accept_mimetypes.best in ("*/*", None):
        return default
    by_type = {v: k for k, v in offers.items()}
    by_type.update((t, k) for t, k in (media_types or {}).items() if t not in by_type and k in offers)
    # asking for any JSON or XML gets the default when no offer is of that type
    generic = [t for t in ("application/json", "application/xml") if t not in by_type]
    best = request.accept_mimetypes.best_match(list(by_type) + generic)
    if best in by_type:
        return by_type[best]
    if best is None:
        raise NotAcceptable(
            "none of the media types in Accept is offered; offered: " + ", ".join(sorted(offers.values())),
            where="Accept",
        )
    return default


def rights_args() -> dict:
    """Who may read what a write stores: ``?rights=&group=&release=`` (POST /documents and
    POST /api/v1/lineage alike)."""
    return {name: request.args.get(name) for name in ("rights", "group", "release")}


def int_arg(name: str, default: int, *, low: int = 0, high: int = 10_000) -> int:
    """A whole-number query parameter within [low, high]; InvalidParameter naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name} must be a whole number, not {raw!r}", where=name) from None
    if not low <= value <= high:
        raise InvalidParameter(f"{name} must be between {low} and {high}", where=name)
    return value
