"""Facts read off PROV records for people: what a record is (kind, IVOA class, data level, IRF),
its OBS_ID, version, title and times, in words.

``read_facts(doc)`` turns a prov document into :class:`Element` and :class:`Link` objects that the
lineage pictures (:mod:`provhub.provdm.render`), the audits (:mod:`provhub.provdm.audit`) and the record pages
(:mod:`provhub.app.web.records`) all read with the same functions.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable

from prov.identifier import Identifier, QualifiedName
from prov.model import PROV_N_MAP, Literal, ProvBundle, ProvDocument, ProvElement, ProvRelation

from . import vocabulary as voc

_UTC = _dt.timezone.utc


@lru_cache(maxsize=8192)
def norm(name: str) -> str:
    """Comparison form of an attribute name: lower case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@lru_cache(maxsize=256)
def _normed(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(map(norm, names))


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
        if not self.attrs:
            return []
        if self._index is None or self._index[0] != len(self.attrs):
            by_name: dict[str, list] = defaultdict(list)
            for _, k, v in self.attrs:
                by_name[norm(k)].append(v)
            self._index = (len(self.attrs), by_name)
        by_name = self._index[1]
        if len(names) == 1:
            return list(by_name.get(norm(names[0]), ()))
        wanted = _normed(names)
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
    "activity": "activity",
    "informed": "activity",
    "informant": "activity",
    "starter": "activity",
    "ender": "activity",
    "entity": "entity",
    "generatedEntity": "entity",
    "usedEntity": "entity",
    "trigger": "entity",
    "alternate1": "entity",
    "alternate2": "entity",
    "specificEntity": "entity",
    "generalEntity": "entity",
    "collection": "entity",
    "plan": "entity",
    "agent": "agent",
    "delegate": "agent",
    "responsible": "agent",
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
        out: set[str] = set()
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


def read_facts(doc: ProvDocument) -> Flat:
    """Elements and relations of a document and its bundles, merged by id (never raises)."""
    elements: dict[str, Element] = {}
    links: list[Link] = []
    kinds: dict[str, set[str]] = defaultdict(set)
    shorts: dict[str, str] = {}
    for record in _records(doc):
        if isinstance(record, ProvElement):
            type_name = PROV_N_MAP[record.get_type()]
            qn = record.identifier
            if qn is None:  # prov gives every element an identifier
                continue
            iri = qn.uri
            kinds[iri].add(type_name)
            attrs = [(k.namespace.uri, k.localpart, v) for k, v in record.attributes if v is not None]
            el = elements.get(iri)
            if el is None:
                elements[iri] = Element(iri, type_name, _short(qn), attrs)
            else:
                el.attrs.extend(a for a in attrs if a not in el.attrs)
        elif isinstance(record, ProvRelation):
            type_name = PROV_N_MAP[record.get_type()]
            link_attrs = [
                (k.localpart if k.namespace.uri == voc.PROV_URI else str(k), v)
                for k, v in record.attributes
                if v is not None
            ]
            src_attr, dst_attr = (a.split(":")[1] for a in voc.RELATION_ENDPOINTS[type_name])
            refs = {k: v for k, v in link_attrs if isinstance(v, QualifiedName)}
            for v in refs.values():
                shorts.setdefault(v.uri, _short(v))
            src, dst = refs.get(src_attr), refs.get(dst_attr)
            ident = record.identifier.uri if record.identifier is not None else None
            link = Link(
                type_name,
                src.uri if src else None,
                dst.uri if dst else None,
                ident,
                [(k, v) for k, v in link_attrs if k not in (src_attr, dst_attr)],
            )
            links.append(link)
            for name, ref in refs.items():
                if name in REFERENCE_KINDS:
                    kinds[ref.uri].add(REFERENCE_KINDS[name])
    for iri, ks in kinds.items():
        if iri not in elements:
            kind = next((k for k in ("activity", "entity", "agent") if k in ks), "entity")
            elements[iri] = Element(iri, kind, shorts.get(iri, iri), [], declared=False)
    for link in links:
        for end in (link.src, link.dst):
            if end and end not in elements:  # wasInfluencedBy to an undeclared record
                elements[end] = Element(end, "entity", shorts.get(end, end), [], declared=False)
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
_LEVEL_ATTRS = (
    "data_level",
    "data_levels",
    "datalevel",
    "product_data_levels",
    "cta_product_data_levels",
    "level",
    "dl",
)
#: the attribute names :func:`data_level` reads (public for cheap tests before it)
LEVEL_ATTRS = _LEVEL_ATTRS
#: a data level named in a label or id (``DL3``, ``dl-5``)
LEVEL_IN_TEXT = _DL
_IRF_TYPES = {
    "aeff",
    "edisp",
    "psf",
    "bkg",
    "rad_max",
    "aeff_2d",
    "edisp_2d",
    "psf_table",
    "psf_3gauss",
    "psf_king",
    "bkg_2d",
    "bkg_3d",
    "rad_max_2d",
    "irf",
    "response",
}


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
    if el.values("sed_type") or any(text_of(v).upper() == "FLUXPOINTS" for v in el.values("extname", "hdu_name")):
        return "DL5"  # GADF/gammapy flux points, spectra and light curves
    for text in (el.first("label", "name") or "", el.short):
        m = _DL.search(text)
        if m:
            return "DL" + m.group(1)
    return None


#: The levels records are listed and counted under (``IRF``: instrument response functions).
DATA_LEVELS = ("DL0", "DL1", "DL2", "DL3", "DL4", "DL5", "DL6", "IRF")


def level_of(el: Element) -> str | None:
    """The level a record is listed and counted under: ``IRF`` for an instrument response
    function, else its :func:`data_level` (``DL0``..``DL6``), else None."""
    return "IRF" if is_irf(el) else data_level(el)


def node_levels(nodes: Iterable) -> list[str | None]:
    """:func:`level_of` of stored records (:class:`provhub.provdm.records.Node`), read straight
    off their encoded attributes (no document is built: ~10 us a record), as stores keep it
    beside each record so that counts and searches by level need not read the records."""
    from .codec import Decoder

    decoder = Decoder()  # one per call: its namespaces are not kept beyond it
    out = []
    for node in nodes:
        _, local, prefix = node.qn
        prefix = prefix or "ns"  # as a document built from records names it
        short = f"{prefix}:{local}" if prefix != "default" else local
        # only the attributes level_of reads are decoded; most records have none of them
        attrs = [(n["qn"][0], n["qn"][1], decoder.value(v)) for n, v in node.attrs if norm(n["qn"][1]) in _LEVEL_READS]
        out.append(level_of(Element(node.id, node.kind, short, attrs)))
    return out


#: the normalised attribute names :func:`level_of` reads (prov:type is ``type``)
_LEVEL_READS = frozenset(
    norm(n) for n in (*_LEVEL_ATTRS, "hduclas1", "hduclas2", "hdu_type", "hdu_class", "sed_type", "extname", "hdu_name")
) | {"label", "name", "type"}


def natural_key(text: str) -> tuple:
    """Sort key putting ``a2`` before ``a10``: digit runs compare as numbers."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in re.split(r"(\d+)", text) if p)


def obs_id(el: Element) -> str | None:
    return el.first("obs_id", "obsid")


#: HDUVERS is left out: it is the version of the HDU format, not of the data.
_VERSION_ATTRS = ("version", "software_version", "cal_ver", "ana_ver", "dst_ver", "irf_version", "data_model_version")


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
    "Parameter": "parameter",
    "ConfigFile": "configuration file",
    "ValueEntity": "value",
    "ActivityDescription": "activity description",
    "EntityDescription": "entity description",
    "DatasetDescription": "dataset description",
    "ActivityFlow": "activity flow",
}
_AGENT_NOUNS = {"SoftwareAgent": "software agent", "Person": "person", "Organization": "organization"}


#: prov:type values too general to name a record.
_GENERIC_TYPES = {
    "Entity",
    "Activity",
    "Agent",
    "Collection",
    "EmptyCollection",
    "Bundle",
    "Plan",
    "DatasetEntity",
    "Revision",
    "Quotation",
    "PrimarySource",
}
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
