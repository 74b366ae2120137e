"""The lineage section of a record page: the traced graph drawn inline, its collapsed groups, the
records it shows, and download links for every ProvSAP response format.

The graph is traced with :func:`provhub.app.services.trace` (so the viewer's access rights apply) and drawn
with :func:`provhub.provdm.render.render`; node links go to record pages. A collapsed group links to
``#expand=<group id>``: the page script turns that into ``?expand=<group id>``, and the page also
lists the groups as plain links, so expanding works without JavaScript.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlencode

from lxml import etree
from markupsafe import Markup
from prov.model import ProvRelation

from provhub.provdm import registry
from provhub.provdm.errors import AnswerTooLarge, Busy, InvalidParameter, QueryTimeout, RenderError
from provhub.provdm.provsap import ProvSapQuery, parse_depth
from provhub.provdm.facts import read_facts, title
from provhub.provdm.render import DIRECTIONS

from .. import services
from ..rights import HIDDEN_NS
from .records import Facts, facts

DEPTHS = ("1", "2", "3", "5", "10", "ALL")
DEFAULT_DEPTH = "5"
DIRECTION_NAMES = {"BACK": "back (what it came from)", "FORTH": "forth (what came from it)"}
LAYOUT_NAMES = {
    "AUTO": "fit the screen",
    "BT": "causes above",
    "TB": "causes below",
    "LR": "causes right",
    "RL": "causes left",
}
#: what the graph folds into one node (``fold=``), and the folds drawn in turn: an expanded
#: telescope shows its nights, an expanded night or data level its runs
FOLD_NAMES = {
    "observation": "runs (OBS_ID)",
    "night": "nights",
    "telescope": "telescopes",
    "level": "data levels",
    "none": "nothing",
}
FOLD_CHAINS = {
    "observation": ("observation",),
    "night": ("night", "observation"),
    "telescope": ("telescope", "night", "observation"),
    "level": ("level", "observation"),
    "none": (),
}
#: AUTO draws causes above, or causes left when that picture is wider than this times its height
#: (a fan-in of many runs): a screen is 16:10, and a wide row of runs would be unreadable fitted
AUTO_WIDEST = 2.0
_SIZE = re.compile(rb'<svg[^>]*?width="([0-9.]+)pt" height="([0-9.]+)pt"')
#: RESPONSEFORMAT, link text, file suffix: every ProvSAP answer format of provhub.provdm.registry
DOWNLOADS = tuple((f.provsap, f.label, f.suffix.lstrip(".")) for f in registry.answers())
_PICTURES = {f.provsap for f in registry.answers() if f.kind == registry.PICTURE}
#: downloads in a PROV syntax are W3C PROV (MODEL=W3C, lossless), what prov and PROV tools read;
#: ProvSAP's default, MODEL=IVOA, is voprov's native serialisation
_SYNTAXES = {f.provsap for f in registry.answers() if f.kind == registry.SYNTAX}
#: records listed under the graph (by kind and title); the downloads hold them all
LISTED = 500
_GROUP_ID = re.compile(r"g[0-9a-f]{12}")
_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


@dataclass
class View:
    """How the user asked to see the lineage (query string of the record page)."""

    direction: str = "BACK"
    depth: str = DEFAULT_DEPTH
    layout: str = "AUTO"
    agents: bool = False
    expand: list[str] = field(default_factory=list)
    fold: str = "observation"

    @classmethod
    def from_args(cls, args, *, max_depth: int) -> "View":
        direction = (args.get("direction") or "BACK").strip().upper()
        if direction not in DIRECTION_NAMES:
            raise InvalidParameter(f"direction must be BACK or FORTH, not {direction!r}", where="direction")
        depth = (args.get("depth") or DEFAULT_DEPTH).strip().upper()
        parse_depth(depth, max_depth=max_depth)
        layout = (args.get("layout") or "AUTO").strip().upper()
        if layout not in LAYOUT_NAMES:
            raise InvalidParameter(f"layout must be one of {', '.join(LAYOUT_NAMES)}, not {layout!r}", where="layout")
        expand = sorted({g for g in args.getlist("expand") if _GROUP_ID.fullmatch(g)})
        fold = (args.get("fold") or "observation").strip().lower()
        if fold not in FOLD_NAMES:
            raise InvalidParameter(f"fold must be one of {', '.join(FOLD_NAMES)}, not {fold!r}", where="fold")
        return cls(direction, depth, layout, args.get("agents") in ("1", "on", "true"), expand, fold)

    def query(self, *more_groups: str) -> str:
        """Query string of the record page showing this view, with ``more_groups`` expanded too."""
        args = [("direction", self.direction), ("depth", self.depth), ("layout", self.layout)]
        args += [("agents", "1")] if self.agents else []
        args += [("fold", self.fold)] if self.fold != "observation" else []
        return urlencode(args + [("expand", g) for g in sorted({*self.expand, *more_groups})])

    def provsap_args(self, record_id: str) -> list[tuple[str, str]]:
        args = [("ID", record_id), ("DEPTH", self.depth), ("DIRECTION", self.direction)]
        return args + ([("AGENT", "true")] if self.agents else [])


@dataclass
class Lineage:
    """What the page shows: ``svg`` (inline markup) or ``error``, groups, records, downloads."""

    svg: Markup | None = None
    error: str | None = None
    groups: list[tuple[str, str]] = field(default_factory=list)  # (group id, description)
    records: list[tuple[Facts, str | None]] = field(default_factory=list)  # (facts, page URL)
    downloads: list[tuple[str, str, str]] = field(default_factory=list)  # (text, URL, file name)
    layout: str = "BT"  # the direction drawn (AUTO picks one)
    total: int = 0  # records in the graph (``records`` lists the first LISTED)


def downloads(record_id: str, view: View, provsap_url: str, stem: str, layout: str | None = None):
    """(text, URL, file name) of every ProvSAP answer format; pictures drawn in ``layout``."""
    out = []
    for fmt, text, suffix in DOWNLOADS:
        args = view.provsap_args(record_id) + [("RESPONSEFORMAT", fmt)]
        if fmt in _PICTURES:
            args.append(("LAYOUT", layout or (view.layout if view.layout in DIRECTIONS else "BT")))
        if fmt in _SYNTAXES:
            args.append(("MODEL", "W3C"))
        out.append((text, f"{provsap_url}?{urlencode(args)}", f"{stem}.{suffix}"))
    return out


def build(store, record_id: str, view: View, *, settings, viewer, link: Callable[[str], str]) -> Lineage:
    """Trace and draw the lineage of ``record_id`` as ``view`` says, within the request's budget
    (a heavy lineage takes a place among the answers through prov's model, as ProvSAP's do)."""
    with services.Budget(settings.query_timeout, services.HEAVY) as budget:
        return _build(store, record_id, view, budget, settings=settings, viewer=viewer, link=link)


def _build(store, record_id: str, view: View, deadline, *, settings, viewer, link) -> Lineage:
    query = ProvSapQuery.from_args(view.provsap_args(record_id), max_depth=settings.max_depth)
    try:
        doc = services.trace(store, query, settings=settings, viewer=viewer, budget=deadline)
    except (AnswerTooLarge, QueryTimeout, Busy) as exc:
        return Lineage(error=f"{exc.message}. Choose a smaller depth.")
    flat = read_facts(doc)  # read once: the records listed and the picture
    elements = flat.elements
    linked = {
        iri: link(iri) for iri, el in elements.items() if el.declared and not iri.startswith(HIDDEN_NS)
    }  # placeholders have no page

    def draw(direction: str) -> bytes:
        return services.draw(
            doc,
            "svg",
            settings=settings,
            deadline=deadline,
            records=len(elements),
            direction=direction,
            highlight={record_id},
            link=linked.get,
            expand=view.expand,
            fold=FOLD_CHAINS[view.fold],
            flat=flat,
        )

    layout = view.layout if view.layout in DIRECTIONS else "BT"
    if view.layout == "AUTO" and view.expand and _widest_fan(doc) > WIDE_FAN:
        layout = "RL"  # an expanded group of many runs is wide top to bottom: one drawing, not two
    try:
        picture = draw(layout)
        if view.layout == "AUTO" and _too_wide(picture):
            layout = "RL"
            picture = draw(layout)
    except (RenderError, AnswerTooLarge, QueryTimeout, Busy) as exc:
        picture, error = None, f"The graph could not be drawn: {exc.message}"
    else:
        error = None
    ordered = sorted(elements.values(), key=lambda el: (el.kind, title(el).lower(), el.id))
    records = [(facts(el), linked.get(el.id)) for el in ordered[:LISTED]]
    if picture is None:
        return Lineage(error=error, records=records, total=len(elements))
    svg, groups = for_page(picture)
    return Lineage(svg=svg, groups=groups, records=records, layout=layout, total=len(elements))


#: an expanded group whose lineage has a record with more partners than this is drawn
#: causes-left at once (AUTO): top to bottom they would stand side by side, far wider than high
WIDE_FAN = 60


def _widest_fan(doc) -> int:
    """The most relations any one record of ``doc`` has (a fan-in's activity: its inputs)."""
    degree: dict = {}
    for record in doc.get_records(ProvRelation):
        ends = record.formal_attributes[:2]
        for _name, value in ends:
            if value is not None:
                degree[value] = degree.get(value, 0) + 1
    return max(degree.values(), default=0)


def _too_wide(svg: bytes) -> bool:
    m = _SIZE.search(svg[:4000])
    return bool(m) and float(m.group(1)) > AUTO_WIDEST * float(m.group(2))


def for_page(picture: bytes) -> tuple[Markup, list[tuple[str, str]]]:
    """Graphviz SVG made fit for an HTML page, and the (group id, description) of each summary node.

    The XML prolog goes; the figure caption labels the picture; Graphviz's internal node names
    (``<title>n12</title>``) give way to each node's tooltip (its IRI, or what a group holds), so
    that hover text and screen readers say something useful. The result is marked safe because
    :func:`provhub.provdm.render.render` escapes every text and keeps only http(s) and relative links,
    lxml escapes what it writes, and the page's Content-Security-Policy forbids inline
    scripts besides.
    """
    root = etree.fromstring(picture, _PARSER)
    root.set("aria-labelledby", "lineage-caption")
    root.set("focusable", "false")
    groups = []
    for g in root.iter(_SVG + "g"):
        title = g.find(_SVG + "title")
        if title is None:
            continue
        anchor = g.find(f"{_SVG}g/{_SVG}a")
        tip = anchor.get(_XLINK + "title", "") if anchor is not None else ""
        if tip and "node" in g.get("class", "").split():
            title.text = tip
            if g.get("id", "").startswith("group-"):
                groups.append((g.get("id")[len("group-") :], tip))
        else:
            g.remove(title)  # the graph's and the edges' Graphviz names
    svg = etree.tostring(root, encoding="unicode")
    return Markup(svg), sorted(groups)


__all__ = [
    "View",
    "Lineage",
    "build",
    "downloads",
    "for_page",
    "DEPTHS",
    "DIRECTION_NAMES",
    "FOLD_NAMES",
    "LAYOUT_NAMES",
]
