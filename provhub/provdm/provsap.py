"""ProvSAP query parameters (the ProvDAL section of the ProvenanceDM working drafts).

Parameter names are case-insensitive; values are checked strictly and a bad one raises
:class:`provhub.provdm.errors.InvalidParameter` naming the parameter. Accepted aliases:
``DIRECTION=FORWARD`` (OPUS) for ``FORTH``, ``AGENTS`` for ``AGENT``, ``1/0``, ``yes/no`` and
``true/false`` (any case) for switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from . import registry
from .errors import InvalidParameter
from .records import Graph

#: RESPONSEFORMAT values -> (kind, media type), from :mod:`provhub.provdm.registry`. ``kind`` is the name
#: of a PROV syntax (json, provn, xml) or of a picture (svg, png, pdf, dot) drawn by provhub.provdm.render.
RESPONSE_FORMATS: dict[str, tuple[str, str]] = {
    f.provsap: (f.name, f.media_type) for f in registry.answers() if f.provsap is not None
}
#: every media type of those formats -> RESPONSEFORMAT value (a parameterised one, such as
#: ``text/xml;content=x-votable``, is looked up whole first, then without its parameters)
_MEDIA_ALIASES: dict[str, str] = {
    t: f.provsap for f in registry.answers() if f.provsap is not None for t in f.media_types
}
#: the draft's parameters, then DALI 1.1's that apply to ProvSAP (section 3.3: MAXREC, RUNID)
PARAMETERS = ("ID", "DEPTH", "DIRECTION", "MEMBERS", "STEPS", "AGENT", "MODEL", "RESPONSEFORMAT", "MAXREC", "RUNID")
#: DALI 1.1 section 3.3.6: "a string with a maximum length of 64 characters"
MAX_RUNID = 64
_ALIASES = {"AGENTS": "AGENT"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass
class ProvSapQuery:
    ids: list[str] = field(default_factory=list)
    depth: int | None = 1  # None = ALL
    direction: str = "BACK"
    members: bool = False
    steps: bool = False
    agents: bool = False
    model: str = "IVOA"
    responseformat: str = "PROV-JSON"
    #: the media type RESPONSEFORMAT named, when it named one: the answer is served with it (DALI
    #: 1.1 section 3.3.3, "the response ... must set that media type in the Content-Type header")
    requested_media_type: str | None = None
    #: DALI MAXREC: at most this many entities, activities and agents (None: no limit; 0: none,
    #: the answer's metadata only)
    maxrec: int | None = None
    #: DALI RUNID: echoed in the answer, and logged
    runid: str | None = None
    #: extra, non-ProvSAP parameters a caller may allow (e.g. LAYOUT for pictures)
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return RESPONSE_FORMATS[self.responseformat][0]

    @property
    def media_type(self) -> str:
        """The Content-Type of the answer: the media type asked for, else the format's first."""
        return self.requested_media_type or RESPONSE_FORMATS[self.responseformat][1]

    @classmethod
    def from_args(cls, args, *, max_depth: int = 1000, allow_extra: Iterable[str] = ()) -> "ProvSapQuery":
        """Build a query from a multi-dict (``request.args``) or a mapping of lists/strings."""
        allowed_extra = {a.upper() for a in allow_extra}
        values: dict[str, list[str]] = {}
        for name, vals in _items(args):
            key = name.upper()
            key = _ALIASES.get(key, key)
            if key not in PARAMETERS and key not in allowed_extra:
                raise InvalidParameter(
                    f"unknown parameter {name!r}; ProvSAP parameters are " + ", ".join(PARAMETERS), where=name
                )
            values.setdefault(key, []).extend(vals)
        q = cls()
        for key, vals in values.items():
            if key != "ID" and len(vals) > 1:
                raise InvalidParameter(f"{key} given {len(vals)} times; it takes one value", where=key)
        q.ids = [v.strip() for v in values.get("ID", []) if v.strip()]
        if not q.ids:
            raise InvalidParameter("ID is required (the identifier of an entity, activity or agent)", where="ID")
        if "DEPTH" in values:
            q.depth = parse_depth(values["DEPTH"][0], max_depth=max_depth)
        if "DIRECTION" in values:
            v = values["DIRECTION"][0].strip().upper()
            if v in ("BACK", "BACKWARD"):
                q.direction = "BACK"
            elif v in ("FORTH", "FORWARD"):
                q.direction = "FORTH"
            else:
                raise InvalidParameter(
                    f"DIRECTION must be BACK or FORTH, not {values['DIRECTION'][0]!r}", where="DIRECTION"
                )
        q.members = _switch(values, "MEMBERS")
        q.steps = _switch(values, "STEPS")
        q.agents = _switch(values, "AGENT")
        if "MODEL" in values:
            v = values["MODEL"][0].strip().upper()
            if v not in ("IVOA", "W3C"):
                raise InvalidParameter(f"MODEL must be IVOA or W3C, not {values['MODEL'][0]!r}", where="MODEL")
            q.model = v
        if "RESPONSEFORMAT" in values:
            q.responseformat = parse_responseformat(values["RESPONSEFORMAT"][0])
            q.requested_media_type = requested_media_type(values["RESPONSEFORMAT"][0])
        if "MAXREC" in values:
            q.maxrec = parse_maxrec(values["MAXREC"][0])
        if "RUNID" in values:
            q.runid = parse_runid(values["RUNID"][0])
        q.extra = {k: v[0] for k, v in values.items() if k in allowed_extra}
        return q


def parse_depth(raw: str, *, max_depth: int) -> int | None:
    v = str(raw).strip().upper()
    if v == "ALL":
        return None
    try:
        depth = int(v)
    except ValueError:
        raise InvalidParameter(f"DEPTH must be a whole number >= 0 or ALL, not {raw!r}", where="DEPTH") from None
    if depth < 0:
        raise InvalidParameter(f"DEPTH must be >= 0, not {depth}", where="DEPTH")
    if depth > max_depth:
        raise InvalidParameter(f"DEPTH {depth} is above this service's maximum {max_depth}; use ALL", where="DEPTH")
    return depth


def _media_type(raw: str) -> str:
    """A media type written one way: lower case, no blanks (``text/xml; content=x-votable``)."""
    return "".join(raw.split()).lower()


def parse_maxrec(raw: str) -> int:
    try:
        maxrec = int(str(raw).strip())
    except ValueError:
        raise InvalidParameter(f"MAXREC must be a whole number >= 0, not {raw!r}", where="MAXREC") from None
    if maxrec < 0:
        raise InvalidParameter(f"MAXREC must be >= 0, not {maxrec}", where="MAXREC")
    return maxrec


def parse_runid(raw: str) -> str:
    if len(raw) > MAX_RUNID:
        raise InvalidParameter(f"RUNID has {len(raw)} characters; at most {MAX_RUNID} are allowed", where="RUNID")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000 or c in "\ufffe\uffff" for c in raw):
        raise InvalidParameter("RUNID holds a control character", where="RUNID")
    return raw


def parse_responseformat(raw: str) -> str:
    v = raw.strip()
    if v.upper() in RESPONSE_FORMATS:
        return v.upper()
    media = _media_type(v)
    alias = _MEDIA_ALIASES.get(media) or _MEDIA_ALIASES.get(media.split(";", 1)[0])
    if alias:
        return alias
    raise InvalidParameter(
        f"RESPONSEFORMAT {raw!r} is not supported; use one of " + ", ".join(RESPONSE_FORMATS), where="RESPONSEFORMAT"
    )


def requested_media_type(raw: str) -> str | None:
    """The media type a RESPONSEFORMAT value names, to be served as it is: None for a format name
    (``PROV-JSON``); with its parameters only when the registry lists them so (other parameters,
    such as a charset the answer is not written in, are not echoed)."""
    v = raw.strip()
    if v.upper() in RESPONSE_FORMATS:
        return None
    media = _media_type(v)
    return media if media in _MEDIA_ALIASES else media.split(";", 1)[0]


def limit_records(graph: Graph, start: Iterable[str], maxrec: int) -> tuple[Graph, bool]:
    """The answer cut at MAXREC (DALI 1.1 section 3.3.4), and whether it was cut (overflow).

    MAXREC counts the entities, activities and agents; the nearest ones are kept: the queried
    records first, then by the number of relations between them and the queried records, then
    by id. The relations kept are those between kept records."""
    if len(graph.nodes) <= maxrec:
        return graph, False
    neighbours: dict[str, set[str]] = {}
    for rel in graph.relations:
        if rel.src and rel.dst:
            neighbours.setdefault(rel.src, set()).add(rel.dst)
            neighbours.setdefault(rel.dst, set()).add(rel.src)
    distance = {i: 0 for i in start}
    frontier = sorted(distance)
    while frontier:
        nxt = sorted({n for i in frontier for n in neighbours.get(i, ()) if n not in distance})
        distance.update((n, distance[frontier[0]] + 1) for n in nxt)
        frontier = nxt
    far = len(graph.nodes) + 1
    nodes = sorted(graph.nodes, key=lambda n: (distance.get(n.id, far), n.id))[:maxrec]
    kept = {n.id for n in nodes}
    relations = [r for r in graph.relations if r.src in kept and (r.dst is None or r.dst in kept)]
    return Graph(nodes=nodes, relations=relations), True


def _switch(values: dict, key: str) -> bool:
    if key not in values:
        return False
    v = values[key][0].strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise InvalidParameter(f"{key} must be true or false, not {values[key][0]!r}", where=key)


def _items(args) -> Iterable[tuple[str, list[str]]]:
    if hasattr(args, "lists"):
        yield from args.lists()
        return
    for k, v in args.items() if isinstance(args, Mapping) else args:
        if isinstance(v, (list, tuple)):
            yield k, [str(x) for x in v]
        elif v is not None:
            yield k, [str(v)]
