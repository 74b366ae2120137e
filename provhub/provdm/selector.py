"""Attribute selectors: the starts of an impact query named by what records say, not by id.

A selector is a condition on one record; records of the store that meet it are the starts of
:func:`provhub.app.impact.impact` (``SELECT=`` over HTTP, ``--where`` on the command line; docs/impact.md).

Grammar (one selector; repeat ``SELECT`` for "or")::

    selector = term ("&" term)*                  all terms hold for the same record
    term     = field op value
    op       = "=" | "!=" | "<" | "<=" | ">" | ">=" | "~"

``field`` is one of the names below, or any attribute's local name (``OBS_ID``, ``TELLIST``,
``obsId``: compared as :func:`provhub.provdm.facts.norm` compares names, case and ``_`` ignored):

============  ==================================================================================
software      the record is a software agent (or an IVOA ActivityDescription) whose name is value
irf           the record is an IRF (:func:`provhub.provdm.facts.is_irf`); ``=``/``~``: its name, id,
              version or any attribute value is / contains value
version       the record's version (:func:`provhub.provdm.facts.version`), compared as release numbers
              (``0.9 < 0.19 < 0.20.dev1 < 0.20``)
level         its data level (``DL3``...; :func:`provhub.provdm.facts.data_level`)
type          one of its ``prov:type`` local names (``InstrumentConfiguration``...)
id            its id
name          its title (``prov:label``, else ``voprov:name``)
time          its time: ``prov:startTime``/``endTime``, ``generatedAtTime``, ``DATE-OBS``/``DATE-END``,
              validity (``validFrom``/``validTo``), else the times of its observation's activity:
              ``time>=T`` holds when the record's interval ends at or after T, ``time<T`` when
              it starts before T (so ``time>=A & time<B`` is "in force at some time in [A, B)")
============  ==================================================================================

Values compare as numbers when both sides are numbers, as release numbers for ``version``, as
times for ``time``, else as text, case-insensitive; ``~`` is "contains". A value that is a
comma-separated list (``TELLIST = "1,2,3,4"``) is ``=`` to each of its items. A record is
selected when every term holds for at least one of its values of that field.

The store is asked for the candidates by text (:meth:`Store.search`), so a selector needs at
least one ``=`` or ``~`` term: its value is the text searched.

Examples::

    software=ctapipe & version<0.20
    irf~prod5-v0.1
    type=InstrumentConfiguration & TELLIST=3 & time>=2004-12-01 & time<2004-12-05
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from . import vocabulary as voc
from .errors import InvalidParameter
from .facts import Element, data_level, is_irf, ivoa_class, norm, prov_types, text_of, time_of, title, version

OPS = ("<=", ">=", "!=", "=", "<", ">", "~")
FIELDS = ("software", "irf", "version", "level", "type", "id", "name", "time")
_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.:\-]*)\s*(<=|>=|!=|=|<|>|~)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Selector:
    text: str
    terms: tuple[Term, ...]

    @property
    def search_text(self) -> str:
        """The text the store is searched for: the longest ``=``/``~`` value (records that meet
        the selector hold it in their id or attributes)."""
        values = [t.value for t in self.terms if t.op in ("=", "~") and t.field not in ("level", "time")]
        return max(values, key=len) if values else ""

    def matches(self, el: Element, extra_times: list | None = None) -> bool:
        return all(_holds(t, el, extra_times or []) for t in self.terms)

    @property
    def needs_times(self) -> bool:
        return any(t.field == "time" for t in self.terms)

    @property
    def software(self) -> bool:
        """The selector names software: its records are agents (or descriptions), and what they
        affect starts at the activities they ran."""
        return any(t.field == "software" for t in self.terms)


def parse(text: str, where: str = "SELECT") -> Selector:
    """One selector (module docstring); InvalidParameter naming ``where`` when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter("a selector must not be empty: field op value [& field op value ...]", where=where)
    if len(text) > 2000:
        raise InvalidParameter("a selector is at most 2000 characters", where=where)
    terms = []
    for part in text.split("&"):
        m = _TERM.match(part)
        if not m or not m.group(3):
            raise InvalidParameter(
                f"cannot read {part.strip()!r}: a term is field op value, op one of {' '.join(OPS)} "
                "(e.g. software=ctapipe & version<0.20)",
                where=where,
            )
        field, op, value = m.group(1), m.group(2), m.group(3).strip().strip("\"'")
        if value[:1] in "<>=!~":
            raise InvalidParameter(f"cannot read {part.strip()!r}: one operator per term", where=where)
        if field.lower() in FIELDS:
            field = field.lower()
        if field == "time" and _time(value) is None:
            raise InvalidParameter(f"time {value!r} is not an ISO date or time", where=where)
        if field in ("software", "irf", "level", "type", "id", "name") and op not in ("=", "!=", "~"):
            raise InvalidParameter(f"{field} compares with =, != or ~, not {op}", where=where)
        terms.append(Term(field, op, value))
    selector = Selector(text.strip(), tuple(terms))
    if not selector.search_text:
        raise InvalidParameter(
            "a selector needs at least one = or ~ term on a field other than level and time "
            "(its value is what the store is searched for)",
            where=where,
        )
    return selector


def parse_all(texts, where: str = "SELECT") -> list[Selector]:
    return [parse(t, where) for t in texts]


# -- matching ----------------------------------------------------------------------------------


def _holds(term: Term, el: Element, extra_times: list) -> bool:
    f = term.field
    if f == "software":
        if not ((el.kind == "agent" and "SoftwareAgent" in prov_types(el)) or ivoa_class(el) == "ActivityDescription"):
            return False
        return _any(term, [el.first("name", "label") or ""])
    if f == "irf":
        if not is_irf(el):
            return False
        values = [el.id, title(el), version(el) or ""] + [text_of(v) for _, _, v in el.attrs]
        return _any(term, values) if term.op != "!=" else not _any(Term(f, "=", term.value), values)
    if f == "version":
        found = version(el)
        return found is not None and _compare(term.op, release_key(found), release_key(term.value))
    if f == "level":
        return _any(term, [data_level(el) or ""])
    if f == "type":
        return _any(term, sorted(prov_types(el)))
    if f == "id":
        return _any(term, [el.id])
    if f == "name":
        return _any(term, [title(el)])
    if f == "time":
        return _in_time(term, record_times(el) or extra_times)
    values = [text_of(v) for _, k, v in el.attrs if norm(k) == norm(f)]
    return bool(values) and _any(term, values)


def _any(term: Term, values: list[str]) -> bool:
    if term.op == "!=":
        return not any(_equal(v, term.value) for v in values)
    return any(_one(term.op, v, term.value) for v in values)


def _one(op: str, value: str, wanted: str) -> bool:
    if op == "~":
        return wanted.lower() in value.lower()
    if op == "=":
        return _equal(value, wanted)
    a, b = _number(value), _number(wanted)
    if a is not None and b is not None:
        return _compare(op, a, b)
    return _compare(op, value.lower(), wanted.lower())


def _equal(value: str, wanted: str) -> bool:
    items = [value] + ([i.strip() for i in value.split(",")] if "," in value else [])
    for item in items:
        a, b = _number(item), _number(wanted)
        if (a is not None and b is not None and a == b) or item.lower() == wanted.lower():
            return True
    return False


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _compare(op: str, a, b) -> bool:
    return {
        "=": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }.get(op, False)


def release_key(text: str) -> tuple:
    """A sort key of a release number: ``0.19 < 0.20.dev1 < 0.20rc1 < 0.20 < 0.20.post1``
    (PEP 440's order for the usual forms; a leading ``v`` and a ``+local`` part are ignored)."""
    text = text.strip().lower().lstrip("v").split("+")[0]
    m = re.match(r"^(\d+(?:\.\d+)*)(.*)$", text)
    if not m:
        return ((), 0, 0, text)
    release = tuple(int(p) for p in m.group(1).split("."))
    while release and release[-1] == 0 and len(release) > 1:
        release = release[:-1]
    rest = m.group(2)
    phase, number = 3, 0  # 0 dev, 1 alpha/beta, 2 rc, 3 final, 4 post
    tag = re.search(r"(dev|a|alpha|b|beta|rc|c|post)\.?(\d*)", rest)
    if tag:
        phase = {"dev": 0, "a": 1, "alpha": 1, "b": 1, "beta": 1, "rc": 2, "c": 2, "post": 4}[tag.group(1)]
        number = int(tag.group(2) or 0)
    return (release, phase, number, "")


# -- times -------------------------------------------------------------------------------------

_START = ("startTime", "generatedAtTime", "time", "DATE-OBS", "DATE_OBS", "validFrom", "validityStart", "TSTART")
_END = ("endTime", "invalidatedAtTime", "DATE-END", "DATE_END", "validTo", "validityEnd", "TSTOP")


def _time(value) -> _dt.datetime | None:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        value = value.strip() + "T00:00:00"
    return time_of(value)


def record_times(el: Element) -> list[tuple]:
    """``[(start, end)]`` of a record (either may be None), from its own time attributes."""
    starts = [t for t in (_time(v) for v in el.values(*_START)) if t]
    ends = [t for t in (_time(v) for v in el.values(*_END)) if t]
    if not starts and not ends:
        return []
    return [(min(starts) if starts else None, max(ends) if ends else None)]


def _in_time(term: Term, intervals: list[tuple]) -> bool:
    t = _time(term.value)
    if t is None or not intervals:
        return False
    for start, end in intervals:
        start = start or end
        end = end or start
        if (
            (term.op in (">=",) and end >= t)
            or (term.op == ">" and end > t)
            or (term.op == "<" and start < t)
            or (term.op == "<=" and start <= t)
            or (term.op == "=" and start <= t <= end)
            or (term.op == "~" and start <= t <= end)
            or (term.op == "!=" and not start <= t <= end)
        ):
            return True
    return False


# -- records as facts --------------------------------------------------------------------------


def element_of(node) -> Element:
    """A stored record (:class:`provhub.provdm.records.Node`) as :class:`provhub.provdm.facts.Element`, without
    building a prov document: qualified names become their IRIs, times datetimes, typed
    literals their text."""
    attrs = [(name["qn"][0], name["qn"][1], _decoded(value)) for name, value in node.attrs]
    prefix, local = node.qn[2], node.qn[1]
    return Element(node.id, node.kind, f"{prefix}:{local}" if prefix else node.id, attrs)


def _decoded(value):
    if isinstance(value, dict):
        if "qn" in value:
            return value["qn"][0] + value["qn"][1]
        if "time" in value:
            return time_of(value["time"]) or value["time"]
        if "uri" in value:
            return value["uri"]
        if "lit" in value:
            return value["lit"]
    return value


__all__ = ["Selector", "Term", "parse", "parse_all", "element_of", "record_times", "release_key", "voc"]
