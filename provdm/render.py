"""Lineage pictures: a PROV document drawn with Graphviz following the W3C PROV conventions.

``render(doc, "svg")`` builds DOT text itself (sorted, so the same document gives byte-identical
output) and pipes it through the Graphviz ``dot`` binary. Conventions:

- entities: yellow ellipses; activities: blue rectangles; agents: orange houses; relations are
  labelled with their PROV-N name (and ``prov:role``), coloured as ``prov.dot`` colours them;
- IVOA descriptions and parameters are folded into the label of the activity/entity they describe
  (``isDescribedBy``/``wasConfiguredBy``); configuration files are small note nodes;
- labels show the data level (DL0..DL6, IRF), OBS_ID and version when the record has them;
- above ``node_cap`` nodes, siblings of one kind attached to the same neighbour by the same
  relation are collapsed into a summary node ("1,000 DL3 event lists") whose link is
  ``#expand=<group id>``; ``render(..., expand={group id})`` draws that group in full;
- every text is escaped; node links come only from the caller's ``link(iri)`` and only
  ``http(s)``/relative URLs are kept. Serve SVG with :data:`SVG_CSP`.

The first half of the module reads facts off records (kind, data level, OBS_ID, version...);
:mod:`provdm.audit` uses the same functions.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import html
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Collection, Iterable
from urllib.parse import urlsplit

from prov.identifier import Identifier, QualifiedName
from prov.model import PROV_N_MAP, Literal, ProvBundle, ProvDocument, ProvElement, ProvRelation

from . import vocabulary as voc
from .errors import InvalidParameter, RenderError

#: Content-Security-Policy to serve rendered SVG with: no scripts, no external loads.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

#: Output format -> MIME type.
FORMATS = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "dot": "text/vnd.graphviz",
}
DIRECTIONS = ("BT", "TB", "LR", "RL")
#: Seconds the Graphviz binary may take before rendering fails.
DOT_TIMEOUT = 60


# == record facts ==============================================================================

_UTC = _dt.timezone.utc


@lru_cache(maxsize=8192)
def norm(name: str) -> str:
    """Comparison form of an attribute name: lower case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def text_of(value: Any) -> str:
    """Human text of an attribute value."""
    if isinstance(value, QualifiedName):
        return str(value)
    if isinstance(value, Literal):
        return str(value.value)
    if isinstance(value, Identifier):
        return value.uri
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return str(value)


def time_of(value: Any) -> _dt.datetime | None:
    """A timezone-aware datetime from an attribute value (naive times are UTC), else None."""
    if isinstance(value, Literal):
        value = value.value
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_UTC)
    return None


def _local(value: Any) -> str:
    """Local name of a QName, IRI or 'prefix:name' string."""
    if isinstance(value, QualifiedName):
        return value.localpart
    s = text_of(value)
    return re.split(r"[#/:]", s)[-1]


@dataclass
class Element:
    """An entity, activity or agent; ``attrs`` holds ``(namespace URI, local name, value)``."""

    id: str
    kind: str  # entity | activity | agent
    short: str  # prefixed name, e.g. hess:obs_23523
    attrs: list = field(default_factory=list)
    declared: bool = True  # False: only referenced by relations
    _index: tuple | None = field(default=None, repr=False, compare=False)

    def values(self, *names: str) -> list:
        """Values of attributes whose normalised local name is one of ``names``."""
        if self._index is None or self._index[0] != len(self.attrs):
            by_name: dict[str, list] = defaultdict(list)
            for _, k, v in self.attrs:
                by_name[norm(k)].append(v)
            self._index = (len(self.attrs), by_name)
        by_name = self._index[1]
        if len(names) == 1:
            return list(by_name.get(norm(names[0]), ()))
        wanted = {norm(n) for n in names}
        return [v for _, k, v in self.attrs if norm(k) in wanted]

    def own(self, name: str) -> list:
        """Values of a non-PROV attribute (e.g. ``voprov:type``, not ``prov:type``)."""
        return [v for ns, k, v in self.attrs if k == name and ns != voc.PROV_URI]

    def first(self, *names: str) -> str | None:
        for name in names:
            vals = self.values(name)
            if vals:
                return text_of(vals[0])
        return None

    @property
    def types(self) -> list:
        """Values of prov:type."""
        return [v for ns, k, v in self.attrs if k == "type" and ns == voc.PROV_URI]


@dataclass
class Link:
    """A relation: PROV-N ``type``, ``src``/``dst`` IRIs (first two formal arguments), attributes."""

    type: str
    src: str | None
    dst: str | None
    id: str | None = None
    attrs: list = field(default_factory=list)

    def value(self, name: str) -> Any:
        for k, v in self.attrs:
            if k == name:
                return v
        return None

    @property
    def time(self) -> _dt.datetime | None:
        return time_of(self.value("time"))

    @property
    def role(self) -> str | None:
        role = self.value("role")
        return text_of(role) if role is not None else None

    def ref(self, name: str) -> str | None:
        """IRI of a formal reference attribute such as ``activity`` or ``plan``."""
        v = self.value(name)
        return v.uri if isinstance(v, Identifier) else None

    @property
    def ivoa_type(self) -> str | None:
        """voprov relation name of a wasInfluencedBy (isDescribedBy, wasConfiguredBy...)."""
        for v in [v for k, v in self.attrs if k == "type"]:
            uri = v.uri if isinstance(v, QualifiedName) else text_of(v)
            local = voc.voprov_local(uri) or (uri[7:] if uri.startswith("voprov:") else None)
            if local:
                return local
        return None

    @property
    def category(self) -> str:
        ivoa = self.ivoa_type
        return voc.relation_category(self.type, [voc.VOPROV_URI + ivoa] if ivoa else [])

    @property
    def name(self) -> str:
        return self.ivoa_type if self.type == "wasInfluencedBy" and self.ivoa_type else self.type


#: Kind of record each formal reference attribute of a relation points at (prov:activity...).
REFERENCE_KINDS = {
    "activity": "activity", "informed": "activity", "informant": "activity",
    "starter": "activity", "ender": "activity",
    "entity": "entity", "generatedEntity": "entity", "usedEntity": "entity", "trigger": "entity",
    "alternate1": "entity", "alternate2": "entity", "specificEntity": "entity",
    "generalEntity": "entity", "collection": "entity", "plan": "entity",
    "agent": "agent", "delegate": "agent", "responsible": "agent",
}


@dataclass
class Flat:
    """A document as elements (by IRI) and relations; ``kinds`` lists every kind an IRI is
    declared or used as (more than one of entity/activity breaks PROV disjointness)."""

    elements: dict[str, Element]
    links: list[Link]
    kinds: dict[str, set[str]]

    def referenced(self) -> set[str]:
        """Every IRI a relation refers to (endpoints, activity, plan)."""
        out = set()
        for link in self.links:
            out.update(i for i in (link.src, link.dst) if i)
            out.update(i for i in (link.ref(n) for n in ("activity", "plan")) if i)
        return out


def _short(qn: QualifiedName) -> str:
    prefix = qn.namespace.prefix
    return f"{prefix}:{qn.localpart}" if prefix and prefix != "default" else qn.localpart


def _records(doc: ProvBundle) -> Iterable:
    yield from doc.get_records()
    for bundle in getattr(doc, "bundles", ()):
        yield from bundle.get_records()


def flatten(doc: ProvDocument) -> Flat:
    """Elements and relations of a document and its bundles, merged by id (never raises)."""
    elements: dict[str, Element] = {}
    links: list[Link] = []
    kinds: dict[str, set[str]] = defaultdict(set)
    shorts: dict[str, str] = {}
    for record in _records(doc):
        type_name = PROV_N_MAP.get(record.get_type())
        if isinstance(record, ProvElement):
            iri = record.identifier.uri
            kinds[iri].add(type_name)
            attrs = [(k.namespace.uri, k.localpart, v) for k, v in record.attributes
                     if v is not None]
            el = elements.get(iri)
            if el is None:
                elements[iri] = Element(iri, type_name, _short(record.identifier), attrs)
            else:
                el.attrs.extend(a for a in attrs if a not in el.attrs)
        elif isinstance(record, ProvRelation):
            attrs = [(k.localpart if k.namespace.uri == voc.PROV_URI else str(k), v)
                     for k, v in record.attributes if v is not None]
            src_attr, dst_attr = (a.split(":")[1] for a in voc.RELATION_ENDPOINTS[type_name])
            refs = {k: v for k, v in attrs if isinstance(v, QualifiedName)}
            for v in refs.values():
                shorts.setdefault(v.uri, _short(v))
            src, dst = refs.get(src_attr), refs.get(dst_attr)
            ident = record.identifier.uri if record.identifier is not None else None
            link = Link(type_name, src.uri if src else None, dst.uri if dst else None, ident,
                        [(k, v) for k, v in attrs if k not in (src_attr, dst_attr)])
            links.append(link)
            for name, ref in refs.items():
                if name in REFERENCE_KINDS:
                    kinds[ref.uri].add(REFERENCE_KINDS[name])
    for iri, ks in kinds.items():
        if iri not in elements:
            kind = next((k for k in ("activity", "entity", "agent") if k in ks), "entity")
            elements[iri] = Element(iri, kind, shorts.get(iri, iri), [], declared=False)
    for link in links:
        for iri in (link.src, link.dst):
            if iri and iri not in elements:  # wasInfluencedBy to an undeclared record
                elements[iri] = Element(iri, "entity", shorts.get(iri, iri), [], declared=False)
    return Flat(elements, links, dict(kinds))


# -- what a record is --------------------------------------------------------------------------

def ivoa_class(el: Element) -> str | None:
    """IVOA class of a record (``Parameter``, ``ActivityDescription``...) from its prov:type."""
    for t in el.types:
        uri = t.uri if isinstance(t, QualifiedName) else text_of(t)
        local = voc.voprov_local(uri) or (uri[7:] if uri.startswith("voprov:") else None)
        if local:
            return local
    return None


def prov_types(el: Element) -> set[str]:
    """Local names of the prov:type values (``SoftwareAgent``, ``Collection``, ``Foo``...)."""
    return {_local(t) for t in el.types}


_DL = re.compile(r"(?<![a-z0-9])dl[ _\-]?([0-6])(?![0-9])", re.I)
_LEVEL_ATTRS = ("data_level", "data_levels", "datalevel", "product_data_levels",
                "cta_product_data_levels", "level", "dl")
_IRF_TYPES = {"aeff", "edisp", "psf", "bkg", "rad_max", "aeff_2d", "edisp_2d", "psf_table",
              "psf_3gauss", "psf_king", "bkg_2d", "bkg_3d", "rad_max_2d", "irf", "response"}


def is_irf(el: Element) -> bool:
    """An instrument response function (GADF HDUCLAS1=RESPONSE, HDU_TYPE aeff/psf/..., IRF type)."""
    words = [text_of(v).lower() for v in el.values("hduclas1", "hduclas2", "hdu_type", "hdu_class")]
    words += [t.lower() for t in prov_types(el)]
    return any(w in _IRF_TYPES for w in words)


def data_level(el: Element) -> str | None:
    """``DL0``..``DL6`` from data-level attributes, HDU keywords (EVENTS: DL3; SED_TYPE or a
    FLUXPOINTS HDU: DL5), then label/id; else None."""
    for v in el.values(*_LEVEL_ATTRS):
        m = _DL.search(text_of(v)) or re.fullmatch(r"\s*([0-6])\s*", text_of(v))
        if m:
            return "DL" + m.group(1)
    if any(text_of(v).upper() == "EVENTS" for v in el.values("hduclas1", "hdu_type")):
        return "DL3"
    if el.values("sed_type") or any(text_of(v).upper() == "FLUXPOINTS"
                                    for v in el.values("extname", "hdu_name")):
        return "DL5"  # GADF/gammapy flux points, spectra and light curves
    for text in (el.first("label", "name") or "", el.short):
        m = _DL.search(text)
        if m:
            return "DL" + m.group(1)
    return None


def obs_id(el: Element) -> str | None:
    return el.first("obs_id", "obsid")


#: HDUVERS is left out: it is the version of the HDU format, not of the data.
_VERSION_ATTRS = ("version", "software_version", "cal_ver", "ana_ver", "dst_ver", "irf_version",
                  "data_model_version")


def version(el: Element) -> str | None:
    """A version attribute of the record (``voprov:version``, ``CAL_VER``...)."""
    found = el.first(*_VERSION_ATTRS)
    if found:
        return found
    for _, k, v in el.attrs:
        if norm(k).endswith("version"):
            return text_of(v)
    return None


def title(el: Element) -> str:
    """Display name: prov:label, voprov:name, else the prefixed id."""
    return el.first("label", "name") or el.short


_CLASS_NOUNS = {
    "Parameter": "parameter", "ConfigFile": "configuration file", "ValueEntity": "value",
    "ActivityDescription": "activity description",
    "EntityDescription": "entity description", "DatasetDescription": "dataset description",
    "ActivityFlow": "activity flow",
}
_AGENT_NOUNS = {"SoftwareAgent": "software agent", "Person": "person",
                "Organization": "organization"}


#: prov:type values too general to name a record.
_GENERIC_TYPES = {"Entity", "Activity", "Agent", "Collection", "EmptyCollection", "Bundle",
                  "Plan", "DatasetEntity", "Revision", "Quotation", "PrimarySource"}
_ACRONYMS = {"fits": "FITS", "hdu": "HDU", "irf": "IRF", "gti": "GTI", "sed": "SED"}


def type_words(el: Element) -> str | None:
    """The first specific prov:type in words: ``provhub:Dl3Production`` -> ``DL3 production``."""
    for t in sorted(prov_types(el) - _GENERIC_TYPES - set(_AGENT_NOUNS) - set(_CLASS_NOUNS)):
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|[_\-]+", " ", t).lower().split()
        words = [_ACRONYMS.get(w, re.sub(r"^dl(\d)$", r"DL\1", w)) for w in words]
        if words:
            return " ".join(words)
    return None


def noun(el: Element) -> str:
    """What the record is, in words: ``DL3 event list``, ``IRF``, ``software agent``,
    ``observation`` (its prov:type)..."""
    cls = ivoa_class(el)
    if cls in _CLASS_NOUNS:
        return _CLASS_NOUNS[cls]
    if el.kind == "agent":
        return next((_AGENT_NOUNS[t] for t in sorted(prov_types(el)) if t in _AGENT_NOUNS), "agent")
    if el.kind == "activity":
        return type_words(el) or "activity"
    if is_irf(el):
        return "IRF"
    level = data_level(el)
    hdu = (el.first("hduclas1", "hdu_type") or "").upper()
    if hdu == "EVENTS" or (level == "DL3" and "event" in title(el).lower()):
        base = "event list"
    elif hdu == "GTI":
        base = "GTI table"
    elif "Collection" in prov_types(el):
        base = "collection"
    else:
        base = type_words(el) or ("dataset" if level else "entity")
    return base if not level or base.startswith(level) else f"{level} {base}"


def plural(word: str) -> str:
    head, _, last = word.rpartition(" ")
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


# == drawing ===================================================================================

_NODE_STYLE = {
    "entity": 'shape=ellipse, style=filled, fillcolor="#FFFC87", color="#808080"',
    "activity": 'shape=box, style=filled, fillcolor="#9FB1FC", color="#0000FF"',
    "agent": 'shape=house, style=filled, fillcolor="#FED37F", color="#808080"',
    "note": 'shape=note, style=filled, fillcolor="#F5F5F5", color="#A0A0A0"',
}
_SUMMARY_STYLE = ', peripheries=2, style="filled,dashed"'
_EDGE_STYLE = {
    "wasGeneratedBy": 'color="darkgreen", fontcolor="darkgreen"',
    "used": 'color="red4", fontcolor="red"',
    "wasAttributedTo": 'color="#FED37F"',
    "wasAssociatedWith": 'color="#FED37F"',
    "actedOnBehalfOf": 'color="#FED37F"',
    "wasInfluencedBy": 'color="grey", fontcolor="grey40"',
    "hadMember": 'style=dashed',
}
_DESCRIPTION_EDGE = 'color="grey", fontcolor="grey40", style=dashed'
#: IVOA records drawn inside the label of the record that points at them.
_FOLDED = {"Parameter", "ParameterDescription", "ActivityDescription", "EntityDescription",
           "DatasetDescription", "ValueDescription", "UsageDescription", "GenerationDescription",
           "ConfigFileDescription"}
#: IVOA records drawn as small notes when they are not folded into another record.
_NOTE_CLASSES = _FOLDED | {"ConfigFile"}
_MAX_LINE = 48
_MAX_FOLDED_LINES = 6
_LINK_SCHEMES = {"", "http", "https"}


def _clip(text: str, width: int = _MAX_LINE) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _h(text: str, width: int = _MAX_LINE) -> str:
    """Text for a Graphviz HTML-like label: clipped, XML-escaped, backslashes doubled (Graphviz
    expands \\N, \\G... even inside HTML labels)."""
    return html.escape(_clip(text, width), quote=True).replace("\\", "\\\\")


def _q(text: str) -> str:
    """A double-quoted DOT string; backslashes doubled so Graphviz escapes (\\N...) stay text."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def safe_link(url: str | None) -> str | None:
    """``url`` if it is relative or http(s) (checked on its HTML-unescaped form), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(html.unescape(url).strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _LINK_SCHEMES else None


def _node_key(iri: str) -> str:
    return hashlib.sha1(iri.encode("utf-8")).hexdigest()[:12]


@dataclass
class _Node:
    key: str  # IRI, or group id of a summary node
    kind: str  # entity | activity | agent | note
    signature: str  # noun used to group siblings
    lines: list[str]  # label lines (HTML)
    tooltip: str
    url: str | None = None
    count: int = 1  # records it stands for
    summary: bool = False
    highlight: bool = False


def _times_line(el: Element) -> str | None:
    start = time_of(next(iter(el.values("startTime")), None))
    end = time_of(next(iter(el.values("endTime")), None))
    if not start and not end:
        return None
    fmt = "%Y-%m-%d %H:%M"
    if start and end:
        tail = end.strftime("%H:%M" if end.date() == start.date() else fmt)
        return f"{start.strftime(fmt)} – {tail}"
    return (start or end).strftime(fmt)


def _facts_line(el: Element) -> str:
    parts = [noun(el)]
    obs, ver = obs_id(el), version(el)
    if obs:
        parts.append(f"OBS_ID {obs}")
    if ver:
        parts.append(f"v{ver}" if ver[:1].isdigit() else ver)
    return " · ".join(parts)


def _folded_line(el: Element) -> str:
    cls = ivoa_class(el)
    if cls == "Parameter":
        value = el.first("value")
        return f"{title(el)} = {value}" if value is not None else title(el)
    ver = version(el)
    kinds = el.own("type") if cls == "ActivityDescription" else []
    desc = title(el) + (f" {ver}" if ver else "")
    return desc + (f" ({text_of(kinds[0])})" if kinds else "")


def _record_node(el: Element, folded: list[str], url: str | None, highlight: bool) -> _Node:
    kind = "note" if ivoa_class(el) in _NOTE_CLASSES else el.kind
    small = '<FONT POINT-SIZE="8">{}</FONT>'
    lines = [small.format(_h(_facts_line(el)))]
    times = _times_line(el) if el.kind == "activity" else None
    if times:
        lines.append(small.format(_h(times)))
    lines += [f'<FONT POINT-SIZE="8" COLOR="#333333">{_h(text)}</FONT>'
              for text in folded[:_MAX_FOLDED_LINES]]
    if len(folded) > _MAX_FOLDED_LINES:
        lines.append(small.format(f"+{len(folded) - _MAX_FOLDED_LINES} more"))
    if title(el) != el.short:
        lines.append(f'<FONT POINT-SIZE="7" COLOR="#555555">{_h(el.short)}</FONT>')
    return _Node(el.id, kind, noun(el), lines, el.id, url, highlight=highlight)


def _label(lines: list[str], title_text: str) -> str:
    body = [f"<B>{_h(title_text)}</B>"] + lines
    return "<" + "<BR/>".join(body) + ">"


class _Drawing:
    """The graph as drawn: nodes keyed by IRI or group id, edges with counts."""

    def __init__(self, flat: Flat, highlight: set[str], link):
        self.nodes: dict[str, _Node] = {}
        self.edges: dict[tuple[str, str, str], int] = {}  # (src, dst, label) -> count
        self.edge_type: dict[tuple[str, str, str], str] = {}
        self.titles: dict[str, str] = {}
        hosts = self._fold_hosts(flat)
        folded_lines: dict[str, list[str]] = defaultdict(list)
        for iri, host_set in sorted(hosts.items()):
            for host in sorted(host_set):
                if host not in hosts:
                    folded_lines[host].append(_folded_line(flat.elements[iri]))
        for iri, el in sorted(flat.elements.items()):
            if iri not in hosts:
                self.titles[iri] = title(el)
                self.nodes[iri] = _record_node(el, sorted(folded_lines.get(iri, [])),
                                               safe_link(link(iri)) if link else None,
                                               iri in highlight or el.short in highlight)
        for rel in flat.links:
            if rel.dst in hosts and rel.src in hosts[rel.dst]:
                continue  # drawn as a line of the source's label
            label = rel.name + (f" ({rel.role})" if rel.role else "")
            for src in self._resolve(rel.src, hosts):
                for dst in self._resolve(rel.dst, hosts):
                    if src != dst:
                        key = (src, dst, label)
                        self.edges[key] = self.edges.get(key, 0) + 1
                        self.edge_type[key] = rel.name if rel.category != voc.DESCRIPTION else ""

    @staticmethod
    def _fold_hosts(flat: Flat) -> dict[str, set[str]]:
        """Folded record IRI -> IRIs of the records it is drawn inside."""
        hosts: dict[str, set[str]] = defaultdict(set)
        for rel in flat.links:
            if rel.category == voc.DESCRIPTION and rel.src and rel.dst:
                target = flat.elements.get(rel.dst)
                if target is not None and ivoa_class(target) in _FOLDED:
                    hosts[rel.dst].add(rel.src)
        return dict(hosts)

    @staticmethod
    def _resolve(iri: str | None, hosts: dict[str, set[str]]) -> list[str]:
        """The drawn nodes standing for ``iri`` (its hosts, transitively, when folded)."""
        if iri is None:
            return []
        out, todo, seen = set(), [iri], set()
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            if cur in hosts:
                todo.extend(hosts[cur])
            else:
                out.add(cur)
        return sorted(out)

    # -- collapsing ----------------------------------------------------------------------------

    def collapse(self, cap: int, expand: Collection[str]) -> None:
        """Merge groups of siblings (largest first) until at most ``cap`` nodes are drawn."""
        while len(self.nodes) > cap:
            groups: dict[tuple, set[str]] = defaultdict(set)
            for (src, dst, label) in self.edges:
                kind = self.edge_type[(src, dst, label)] or label
                for member, neighbour, way in ((src, dst, "out"), (dst, src, "in")):
                    node = self.nodes[member]
                    if not node.highlight:
                        groups[(neighbour, kind, way, node.kind, node.signature)].add(member)
            ranked = sorted(((len(m), _group_id(k), k) for k, m in groups.items() if len(m) > 1),
                            key=lambda t: (-t[0], t[1]))
            moved: dict[str, str] = {}  # member -> group id, for this round
            for _, gid, key in ranked:
                if gid in expand:
                    continue
                members = sorted(groups[key] - moved.keys())
                if len(members) < 2:
                    continue
                self._summarise(gid, key, members)
                moved.update((m, gid) for m in members)
                if len(self.nodes) <= cap:
                    break
            if not moved:
                break
            self._move_edges(moved)

    def _summarise(self, gid: str, key: tuple, members: list[str]) -> None:
        """Replace ``members`` by one summary node (edges are moved by :meth:`_move_edges`)."""
        parts = [self.nodes.pop(m) for m in members]
        count = sum(p.count for p in parts)
        sig = key[4]
        names = sorted(self.titles.get(p.key, p.tooltip) for p in parts)
        tip = f"{count:,} {plural(sig)}: " + ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        self.titles[gid] = f"{count:,} {plural(sig)}"
        self.nodes[gid] = _Node(gid, parts[0].kind, sig, [
            '<FONT POINT-SIZE="8">collapsed group · click to expand</FONT>'], tip,
            f"#expand={gid}", count, summary=True)

    def _move_edges(self, moved: dict[str, str]) -> None:
        """Point edges of collapsed members at their group; merge duplicates, counting them."""
        edges: dict[tuple[str, str, str], int] = {}
        types: dict[tuple[str, str, str], str] = {}
        for (src, dst, label), n in self.edges.items():
            new = (moved.get(src, src), moved.get(dst, dst), label)
            if new[0] == new[1]:
                continue
            edges[new] = edges.get(new, 0) + n
            types[new] = self.edge_type[(src, dst, label)]
        self.edges, self.edge_type = edges, types

    # -- DOT -----------------------------------------------------------------------------------

    def dot(self, direction: str) -> str:
        order = sorted(self.nodes, key=lambda k: (self.nodes[k].summary, k))
        names = {k: f"n{i}" for i, k in enumerate(order)}
        out = [
            "digraph lineage {",
            f'  graph [rankdir={direction}, charset="UTF-8", fontname="Helvetica", '
            'nodesep=0.25, ranksep=0.45, bgcolor="white"];',
            '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.04"];',
            '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];',
        ]
        for k in order:
            node = self.nodes[k]
            attrs = [_NODE_STYLE[node.kind] + (_SUMMARY_STYLE if node.summary else "")]
            attrs.append("label=" + _label(node.lines, self.titles.get(k, k)))
            attrs.append("tooltip=" + _q(html.escape(_clip(node.tooltip, 300), quote=True)))
            attrs.append("id=" + _q(("group-" + k) if node.summary else "rec-" + _node_key(k)))
            if node.url:
                # Graphviz copies URL into SVG unescaped (and passes entities through)
                attrs.append("URL=" + _q(html.escape(node.url, quote=True)) + ', target="_top"')
            if node.highlight:
                attrs.append('penwidth=3, color="#C0392B"')
            out.append(f"  {names[k]} [{', '.join(attrs)}];")
        for (src, dst, label) in sorted(self.edges, key=lambda e: (names[e[0]], names[e[1]], e[2])):
            count = self.edges[(src, dst, label)]
            kind = self.edge_type[(src, dst, label)]
            style = _EDGE_STYLE.get(kind, "") if kind else _DESCRIPTION_EDGE
            text = label + (f" ×{count:,}" if count > 1 else "")
            attrs = [f'label=<{_h(text, 40)}>'] + ([style] if style else [])
            out.append(f"  {names[src]} -> {names[dst]} [{', '.join(attrs)}];")
        out.append("}")
        return "\n".join(out) + "\n"


def _group_id(key: tuple) -> str:
    return "g" + hashlib.sha1(repr(key).encode("utf-8")).hexdigest()[:12]


def to_dot(doc: ProvDocument, *, direction: str = "BT", node_cap: int = 150,
           highlight: Collection[str] | None = None,
           link: Callable[[str], str | None] | None = None,
           expand: Collection[str] = ()) -> str:
    """The DOT text :func:`render` lays out (same arguments)."""
    direction = (direction or "").upper()
    if direction not in DIRECTIONS:
        raise InvalidParameter(f"layout direction {direction!r} is not one of "
                               + ", ".join(DIRECTIONS), where="direction")
    drawing = _Drawing(flatten(doc), set(highlight or ()), link)
    drawing.collapse(max(int(node_cap), 1), set(expand))
    return drawing.dot(direction)


def render(doc: ProvDocument, fmt: str = "svg", *, direction: str = "BT", node_cap: int = 150,
           highlight: set[str] | None = None, link: Callable[[str], str | None] | None = None,
           expand: Collection[str] = ()) -> bytes:
    """Draw ``doc``: ``fmt`` is svg, png, pdf or dot; ``direction`` BT, TB, LR or RL.

    ``highlight``: IRIs (or prefixed names) drawn with a thick red border, never collapsed.
    ``link(iri)`` gives the URL a node points to (None: no link). ``expand``: group ids (from
    ``#expand=<id>`` links of summary nodes) to draw in full. Raises InvalidParameter,
    RenderError.
    """
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise InvalidParameter(f"picture format {fmt!r} is not one of " + ", ".join(FORMATS),
                               where="format")
    source = to_dot(doc, direction=direction, node_cap=node_cap, highlight=highlight, link=link,
                    expand=expand).encode("utf-8")
    if fmt == "dot":
        return source
    return run_dot(source, fmt)


def run_dot(source: bytes, fmt: str) -> bytes:
    """Lay out DOT text with the Graphviz ``dot`` binary."""
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError("the Graphviz 'dot' program is not installed (apt-get install graphviz)",
                          where="render")
    try:
        done = subprocess.run([exe, "-T" + fmt], input=source, capture_output=True,
                              timeout=DOT_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz took longer than {DOT_TIMEOUT} s", where="render") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise RenderError(f"Graphviz failed: {message}", where="render")
    return done.stdout


__all__ = ["render", "to_dot", "run_dot", "SVG_CSP", "FORMATS", "DIRECTIONS", "RenderError",
           "flatten", "Flat", "Element", "Link", "data_level", "obs_id", "version", "title",
           "noun", "plural", "ivoa_class", "prov_types", "is_irf", "time_of", "text_of",
           "safe_link"]
