"""What the web page shows of a record: its facts, its attribute table, whether it matches a search.

Records arrive as :class:`provhub.provdm.codec.Node` (encoded attribute pairs, see provhub/provdm/codec.py). The
facts (data level, OBS_ID, version, display title, what it is in words) are read with the same
functions the pictures use (:mod:`provhub.provdm.render`), so the page and the graph agree.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import Graph, Node, to_document
from provhub.provdm.errors import InvalidParameter
from provhub.provdm.facts import (
    DATA_LEVELS,
    LEVEL_ATTRS,
    LEVEL_IN_TEXT,
    Element,
    level_of,
    noun,
    norm,
    obs_id,
    read_facts,
    text_of,
    time_of,
    title,
    version,
)

KINDS = ("entity", "activity", "agent")
#: Data levels a search can ask for (``IRF``: instrument response functions).
LEVELS = DATA_LEVELS
#: Attribute names (normalised) whose plain-string values are times.
TIME_NAMES = {"starttime", "endtime", "time"}
#: FITS date keywords (normalised) -> keyword with the time of day when the date has none. FITS
#: ``DATE`` (when the file was written) is left out: a time window is about observations.
FITS_DATES = {"dateobs": "timeobs", "datebeg": "timeobs", "dateend": "timeend"}

_WELL_KNOWN = {voc.XSD_URI: "xsd", voc.PROV_URI: "prov", "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf"}
_PLAIN_TYPES = {int: "xsd:int", float: "xsd:double", str: "xsd:string"}


def record_path(iri: str) -> str:
    """Path of a record page below the blueprint root: the IRI percent-encoded as one segment."""
    return "records/" + quote(iri, safe="")


def elements(nodes: list[Node]) -> dict[str, Element]:
    """The facts view (:class:`provhub.provdm.facts.Element`) of each node, by IRI."""
    if not nodes:
        return {}
    return read_facts(to_document(Graph(nodes=list(nodes)))).elements


@dataclass
class Facts:
    """One line of a result list, or the head of a record page."""

    id: str
    kind: str
    short: str
    title: str
    noun: str
    level: str | None
    obs_id: str | None
    version: str | None
    start: _dt.datetime | None
    end: _dt.datetime | None

    @property
    def when(self) -> str:
        if not self.start:
            return ""
        first = self.start.strftime("%Y-%m-%d %H:%M")
        if self.end and self.end != self.start:
            same_day = self.end.date() == self.start.date()
            return f"{first} – {self.end.strftime('%H:%M' if same_day else '%Y-%m-%d %H:%M')}"
        return first


def facts(el: Element) -> Facts:
    times = sorted(record_times(el))
    level = level_of(el)
    return Facts(
        el.id,
        el.kind,
        el.short,
        title(el),
        noun(el),
        level,
        obs_id(el),
        version(el),
        times[0] if times else None,
        times[-1] if times else None,
    )


def record_times(el: Element) -> list[_dt.datetime]:
    """Every time the record states: typed dateTime values, start/end times, FITS DATE-OBS/END."""
    named = {norm(k): v for _, k, v in el.attrs}
    out = []
    for _, name, value in el.attrs:
        key = norm(name)
        if isinstance(value, str):
            clock = named.get(FITS_DATES.get(key, ""))
            if key in FITS_DATES and "T" not in value and clock is not None:
                value = f"{value.strip()}T{text_of(clock).strip()}"
            elif key not in TIME_NAMES and key not in FITS_DATES:
                continue
        t = time_of(value)
        if t is not None:
            out.append(t)
    return out


_LEVEL_NAMES = {norm(n) for n in LEVEL_ATTRS} | {"sedtype"}
_HDU_NAMES = {"extname", "hduname"}


def may_be_product(node: Node) -> bool:
    """A cheap test, on the stored record, that :func:`facts` may find a DL4-DL6 entity: it has a
    data-level attribute (or a SED type, or a FLUXPOINTS HDU), or its label or id names DL4-DL6.
    Used to read the facts of only these among many records (a document's or a store's)."""
    if node.kind != "entity":
        return False
    for name, value in node.attrs:
        key = norm(name["qn"][1])
        if key in _LEVEL_NAMES:
            return True
        if key in _HDU_NAMES and "FLUXPOINTS" in str(value).upper():
            return True
        if key in ("label", "name") and _names_product_level(str(value)):
            return True
    return _names_product_level(node.id)


def _names_product_level(text: str) -> bool:
    return any(m.group(1) in "456" for m in LEVEL_IN_TEXT.finditer(text))


# -- search filters ----------------------------------------------------------------------------


@dataclass
class Filters:
    """Search conditions the store cannot apply itself: data level and time window."""

    level: str | None = None
    since: _dt.datetime | None = None
    until: _dt.datetime | None = None

    @property
    def active(self) -> bool:
        return bool(self.level or self.since or self.until)

    def keep(self, f: Facts) -> bool:
        if self.level and f.level != self.level:
            return False
        if self.since or self.until:
            if f.start is None:
                return False
            if self.since and (f.end or f.start) < self.since:
                return False
            if self.until and f.start > self.until:
                return False
        return True


def parse_time(raw: str | None, *, where: str, end_of_day: bool = False) -> _dt.datetime | None:
    """A UTC datetime from ``2020-01-02`` or ``2020-01-02T03:04[:05][+00:00]``; None when blank."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = _dt.date.fromisoformat(raw)
            t = _dt.datetime.combine(day, _dt.time.max if end_of_day else _dt.time.min)
        else:
            t = _dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(
            f"{where} must be a date (2020-01-02) or a time (2020-01-02T03:04), not {raw!r}", where=where
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)


def parse_filters(args) -> Filters:
    level = (args.get("level") or "").strip().upper() or None
    if level and level not in LEVELS:
        raise InvalidParameter(f"level must be one of {', '.join(LEVELS)}, not {level!r}", where="level")
    since = parse_time(args.get("from"), where="from")
    until = parse_time(args.get("to"), where="to", end_of_day=True)
    if since and until and since > until:
        raise InvalidParameter("the time window ends before it starts", where="to")
    return Filters(level, since, until)


# -- attribute table ---------------------------------------------------------------------------


@dataclass
class Attribute:
    name: str  # prefix:local
    iri: str  # full attribute IRI
    value: str
    datatype: str
    link: str | None = None  # for xsd:anyURI values with an http(s) scheme


def _short_iri(iri: str) -> str:
    for uri, known in _WELL_KNOWN.items():
        if iri.startswith(uri):
            return f"{known}:{iri[len(uri) :]}"
    return iri


def _prefixed(qn: list) -> str:
    uri, local, prefix = qn
    return f"{prefix}:{local}" if prefix and prefix != "default" else local


def _value(enc) -> tuple[str, str, str | None]:
    """Text, datatype and link of an encoded attribute value (provhub.provdm.codec encoding)."""
    if isinstance(enc, dict):
        if "qn" in enc:
            return _prefixed(enc["qn"]), "prov:QUALIFIED_NAME", None
        if "uri" in enc:
            scheme = urlsplit(enc["uri"]).scheme.lower()
            return enc["uri"], "xsd:anyURI", enc["uri"] if scheme in ("http", "https") else None
        if "time" in enc:
            return enc["time"], "xsd:dateTime", None
        if "lang" in enc:
            return str(enc["lit"]), f"xsd:string @{enc['lang']}", None
        return str(enc.get("lit")), _short_iri(enc["dt"]) if "dt" in enc else "xsd:string", None
    if isinstance(enc, bool):
        return ("true" if enc else "false"), "xsd:boolean", None
    return str(enc), _PLAIN_TYPES.get(type(enc), "xsd:string"), None


def attributes(node: Node) -> list[Attribute]:
    """Every attribute of a record, in stored order (FITS keywords keep their header order)."""
    rows = []
    for name, value in node.attrs:
        text, datatype, link = _value(value)
        qn = name["qn"]
        rows.append(Attribute(_prefixed(qn), qn[0] + qn[1], text, datatype, link))
    return rows


__all__ = [
    "KINDS",
    "LEVELS",
    "Facts",
    "Filters",
    "Attribute",
    "facts",
    "elements",
    "may_be_product",
    "attributes",
    "parse_filters",
    "parse_time",
    "record_path",
    "record_times",
]
