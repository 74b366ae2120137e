"""DataLink: which records a dataset links to, and with which datalink/core term.

``GET /datalink?ID=...`` (provhub/app/api/datalink.py) and ``provhub bundle`` ask :func:`links`. The
links are read off the lineage the shared walk gives (:func:`provhub.app.services.trace_graph`, rights
applied: a record the caller may not read is never listed, nor is anything reached only through
one), one short walk back and one forth per ID:

==================  ========================================================================
``#this``           the record the ID names
``#calibration``    the IRF HDUs (AEFF, EDISP, PSF, BKG) of the dataset itself: they are yet to
                    be applied to it (``local_semantics`` names which)
``#auxiliary``      its GTI HDU; the configuration its making used (``voprov:wasConfiguredBy``,
                    a config file, an instrument configuration: ``local_semantics``
                    ``configuration``); the index tables it was selected from (``index``); and,
                    for a product, the IRFs of its progenitors, which were applied in its
                    making (``local_semantics`` AEFF... as for #calibration; docs/api.md says
                    why no other term fits)
``#progenitor``     the nearest files back along the lineage that hold science data (through
                    non-file records such as a DL3 observation: the file of the HDUs it was
                    derived from)
``#derivation``     the nearest files forth along the lineage (products made from it)
==================  ========================================================================

Every link's ``access_url`` is the file's location when the record has one that is a URL (an
ObsCore import gives it), else the record page; a link to an HDU points to its file's URL when
that is known. A last row (``#auxiliary``, ``local_semantics`` ``provenance``) calls ProvSAP with
the ID through the service descriptor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import Graph
from provhub.provdm.datalink import AUXILIARY, CALIBRATION, DERIVATION, PROGENITOR, THIS, Link
from provhub.provdm.errors import AmbiguousId, NotFound, ProvhubError
from provhub.provdm.provsap import ProvSapQuery

from . import services
from .access import Viewer
from .rights import HIDDEN_NS, sees_everything, visible_ids
from .stores.base import Store

#: GADF HDUCLAS2 (or the hdu-index HDU_TYPE) of an IRF -> the name links give it
IRF_KINDS = {"EFF_AREA": "AEFF", "AEFF": "AEFF", "EDISP": "EDISP", "RPSF": "PSF", "PSF": "PSF", "BKG": "BKG"}
GTI = "GTI"
#: how far the walks go: back to the HDUs of the progenitors' files (product <- generation <-
#: DL3 observation <- HDU), forth to the products of the activities that used a member
BACK_DEPTH, FORTH_DEPTH = 4, 6
_H = voc.PROVHUB.uri
CONFIG_TYPES = {voc.VOPROV_URI + "ConfigFile", _H + "InstrumentConfiguration", _H + "ConfigFile"}
INDEX_TYPES = {_H + "ObsIndex", _H + "HduIndex"}
#: files an analysis reads that are not science data: (type, local_semantics)
MODEL_TYPES = {_H + "ModelFile": "model"}
FILE_TYPES = {_H + "FitsFile"}
CONFIGURED_BY = {voc.VOPROV_URI + "wasConfiguredBy", voc.VOPROV_URI_WD + "wasConfiguredBy"}
#: usage types of what an activity used as set-up rather than as input data
SETUP_USAGES = {"Setup", "Context"}
RECORD_PAGE_TYPE = "text/html"
#: local_semantics of the row that calls ProvSAP
PROVENANCE = "provenance"


@dataclass
class _View:
    """A lineage answer indexed for the classification."""

    nodes: dict
    out: dict = field(default_factory=dict)  # src -> relations
    into: dict = field(default_factory=dict)  # dst -> relations
    parent: dict = field(default_factory=dict)  # member -> collection
    members: dict = field(default_factory=dict)  # collection -> members

    @classmethod
    def of(cls, graph: Graph) -> _View:
        view = cls({n.id: n for n in graph.nodes})
        for r in graph.relations:
            if not r.src or not r.dst:
                continue
            if r.type == "hadMember":
                view.parent.setdefault(r.dst, r.src)
                view.members.setdefault(r.src, []).append(r.dst)
                continue
            view.out.setdefault(r.src, []).append(r)
            view.into.setdefault(r.dst, []).append(r)
        return view

    def shown(self, rid: str) -> bool:
        return rid in self.nodes and not rid.startswith(HIDDEN_NS)


def _values(attrs, local: str) -> list:
    return [v for name, v in attrs if name["qn"][1] == local]


def _text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for k in ("lit", "uri"):
            if isinstance(value.get(k), str):
                return value[k]
    return None


def _types(node) -> set[str]:
    return {v["qn"][0] + v["qn"][1] for v in _values(node.attrs, "type") if isinstance(v, dict) and "qn" in v}


def _first(node, local: str) -> str | None:
    for v in _values(node.attrs, local):
        t = _text(v)
        if t:
            return t
    return None


def location(node) -> str | None:
    """The record's location (prov:location), a URL first."""
    found = [t for t in (_text(v) for v in _values(node.attrs, "location")) if t]
    urls = [t for t in found if is_url(t)]
    return (urls or found or [None])[0]


def is_url(text: str) -> bool:
    scheme, sep, rest = text.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https", "ftp") and bool(rest)


def _is_file(node) -> bool:
    return bool(_types(node) & FILE_TYPES) or location(node) is not None


def hdu_kind(node, rel=None) -> str | None:
    """AEFF, EDISP, PSF, BKG or GTI for an HDU record (from its GADF class, or the hdu-index's
    HDU_TYPE on the relation that reached it), else None."""
    cls = _first(node, "hduClass") or ""
    parts = cls.upper().split("/")
    if len(parts) > 2 and parts[1] == "RESPONSE":
        return IRF_KINDS.get(parts[2])
    if len(parts) > 1 and parts[1] == "GTI":
        return GTI
    if rel is not None:
        hdu_type = next((t for t in (_text(v) for v in _values(rel.attrs, "hduType")) if t), "")
        if hdu_type.upper() == "GTI":
            return GTI
        return IRF_KINDS.get(hdu_type.upper())
    return None


@dataclass
class _Links:
    ident: str
    view: _View
    url: Callable[[str], str]
    rows: list = field(default_factory=list)
    done: set = field(default_factory=set)
    #: the records without a file the walk went through to reach the one being linked
    chain: tuple = ()
    #: such records nearest the dataset on their path (no other before them), and those through
    #: which a progenitor or derivation file was found
    nearest: list = field(default_factory=list)
    resolved: set = field(default_factory=set)

    def candidate(self, rid: str, chain: tuple) -> None:
        """A record without a file the walk goes on through: it is linked itself (``settle``)
        when it is the nearest on its path and no file was found beyond it."""
        if not chain:
            self.nearest.append(rid)

    def settle(self, semantics: str) -> None:
        for rid in self.nearest:
            if rid not in self.resolved:
                self.add(rid, semantics, _label(self.view.nodes[rid]))

    def add(self, rid: str, semantics: str, description: str, local: str | None = None) -> None:
        key = (rid, semantics, local)
        if semantics in (PROGENITOR, DERIVATION):
            self.resolved.update(self.chain)
        if key in self.done or not self.view.shown(rid):
            return
        self.done.add(key)
        node = self.view.nodes[rid]
        target = self.view.nodes.get(self.view.parent.get(rid, ""), node) if rid in self.view.parent else node
        where = location(target)
        if where and is_url(where):
            access, ctype = where, _first(target, "contentType")
        else:
            access, ctype = self.url(rid), RECORD_PAGE_TYPE
        size = next((v for v in _values(node.attrs, "contentLength") if isinstance(v, int)), None)
        self.rows.append(
            Link(
                id=self.ident,
                semantics=semantics,
                access_url=access,
                description=description,
                content_type=ctype,
                content_length=size if access is not None and target is node else None,
                local_semantics=local,
                record=rid,
                file=where,
            )
        )


def _label(node) -> str:
    return _first(node, "label") or node.id


def _own(acc: _Links, rid: str) -> None:
    """#this and the dataset's own HDUs."""
    view = acc.view
    acc.add(rid, THIS, _label(view.nodes[rid]))
    for member in sorted(view.members.get(rid, [])):
        if not view.shown(member):
            continue
        kind = hdu_kind(view.nodes[member])
        if kind == GTI:
            acc.add(member, AUXILIARY, f"good time intervals: {_label(view.nodes[member])}", GTI)
        elif kind:
            acc.add(
                member, CALIBRATION, f"{kind} (IRF, not applied to the dataset): {_label(view.nodes[member])}", kind
            )


def _back(acc: _Links, rid: str) -> None:
    view = acc.view
    start = [rid, *view.members.get(rid, [])]
    seen, queue = set(start), deque((i, ()) for i in start)
    while queue:
        x, chain = queue.popleft()
        for rel in view.out.get(x, []):
            y = rel.dst
            if y in seen or not view.shown(y):
                continue
            seen.add(y)
            node = view.nodes[y]
            if node.kind != "entity":
                if node.kind == "activity":
                    queue.append((y, chain))
                continue
            acc.chain = chain
            if _reached(acc, rel, node):
                acc.candidate(y, chain)
                queue.append((y, (*chain, y)))
    acc.settle(PROGENITOR)


def _reached(acc: _Links, rel, node) -> bool:
    """Link an entity the back walk reached; True to walk on through it."""
    view, types = acc.view, _types(node)
    configured = _configured(rel)
    usage = next((t for t in (_text(v) for v in _values(rel.attrs, "usageType")) if t), None)
    if _is_description(rel, node):
        return False  # an IVOA description (isDescribedBy), a placeholder path: not data
    if types & INDEX_TYPES:
        acc.add(node.id, AUXILIARY, f"index table: {_label(node)}", "index")
        return False
    if configured or types & CONFIG_TYPES:
        if _is_file(node) or types & CONFIG_TYPES:
            acc.add(node.id, AUXILIARY, f"configuration: {_label(node)}", "configuration")
        return False
    model = next((MODEL_TYPES[t] for t in types if t in MODEL_TYPES), None)
    if model:
        acc.add(node.id, AUXILIARY, f"{model}: {_label(node)}", model)
        return False
    if rel.type == "used" and usage in SETUP_USAGES:
        if _is_file(node):
            acc.add(node.id, AUXILIARY, f"{usage.lower()} input: {_label(node)}", usage.lower())
        return False
    parent = view.parent.get(node.id)
    if parent is not None:  # an HDU: its file is the progenitor; its IRFs were applied
        kind = hdu_kind(node, rel)
        if kind and kind != GTI:
            acc.add(node.id, AUXILIARY, f"{kind} (IRF applied in making the dataset): {_label(node)}", kind)
        if view.shown(parent):
            acc.add(parent, PROGENITOR, _label(view.nodes[parent]))
        return False
    if _is_file(node):
        acc.add(node.id, PROGENITOR, _label(node))
        return False
    return True


def _is_description(rel, node) -> bool:
    return (
        rel.type == "wasInfluencedBy" and not _configured(rel) or any(t.endswith("Description") for t in _types(node))
    )


def _configured(rel) -> bool:
    return rel.type == "wasInfluencedBy" and any(
        isinstance(v, dict) and "qn" in v and v["qn"][0] + v["qn"][1] in CONFIGURED_BY
        for v in _values(rel.attrs, "type")
    )


def _forth(acc: _Links, rid: str) -> None:
    view = acc.view
    own = {rid, *view.members.get(rid, [])}
    seen, queue = set(own), deque((i, ()) for i in own)
    while queue:
        x, chain = queue.popleft()
        for rel in view.into.get(x, []):
            y = rel.src
            if y in seen or not view.shown(y):
                continue
            seen.add(y)
            node = view.nodes[y]
            if node.kind == "activity":
                queue.append((y, chain))
            elif node.kind == "entity" and not _is_description(rel, node):
                target = view.parent.get(y, y)
                acc.chain = chain
                if target not in own and view.shown(target) and _is_file(view.nodes[target]):
                    acc.add(target, DERIVATION, _label(view.nodes[target]))
                else:
                    acc.candidate(y, chain)
                    queue.append((y, (*chain, y)))
    acc.settle(DERIVATION)


def _graph(store: Store, rid: str, direction: str, depth: int, *, settings, viewer: Viewer) -> Graph:
    args = {"ID": rid, "DEPTH": str(min(depth, settings.max_depth)), "DIRECTION": direction}
    query = ProvSapQuery.from_args({**args, "MEMBERS": "true", "MODEL": "W3C"}, max_depth=settings.max_depth)
    graph, _ = services.trace_graph(store, query, settings=settings, viewer=viewer)
    return graph


_RANK = {t: i for i, t in enumerate((THIS, PROGENITOR, CALIBRATION, AUXILIARY, DERIVATION))}


def _order(link: Link) -> tuple:
    return (_RANK.get(link.semantics, 9), link.local_semantics or "", link.description)


def _error(ident: str, message: str) -> Link:
    return Link(id=ident, semantics=THIS, error_message=message)


def resolve(store: Store, ident: str, viewer: Viewer) -> str:
    """The record ``ident`` names, if ``viewer`` may read it (NotFound otherwise, the same
    answer for an unknown and a hidden one). An ambiguous name is NotFound too unless the viewer
    may read one of its records."""
    try:
        rid = services.canonical(store, ident)
    except AmbiguousId as exc:
        candidates = [d["candidate"] for d in exc.details if isinstance(d, dict) and "candidate" in d]
        readable = candidates if sees_everything(store, viewer) else sorted(visible_ids(store, candidates, viewer))
        if readable:
            raise AmbiguousId(f"{ident!r} names several records; use /resolve", where="ID") from None
        raise NotFound(f"no record known by {ident!r}", where="ID") from None
    found = [n.id for n in store.get_nodes([rid])]
    if found and not sees_everything(store, viewer):
        found = sorted(visible_ids(store, found, viewer))
    if not found:
        raise NotFound(f"no record known by {ident!r}", where="ID")
    return rid


def links(
    store: Store,
    idents: list[str],
    *,
    settings,
    viewer: Viewer,
    record_url: Callable[[str], str],
    provsap: bool = True,
) -> list[Link]:
    """The links of each of ``idents`` (ids or aliases), in the order asked; an ID that names no
    record the viewer may read gets one row with ``error_message`` (DataLink 1.1 section 3.2.3)."""
    rows: list[Link] = []
    for ident in idents:
        try:
            rid = resolve(store, ident, viewer)
            back = _graph(store, rid, "BACK", BACK_DEPTH, settings=settings, viewer=viewer)
            forth = _graph(store, rid, "FORTH", FORTH_DEPTH, settings=settings, viewer=viewer)
        except NotFound as exc:
            rows.append(_error(ident, f"NotFoundFault: {exc.message}"))
            continue
        except AmbiguousId as exc:
            rows.append(_error(ident, f"UsageFault: {exc.message}"))
            continue
        except ProvhubError as exc:
            rows.append(_error(ident, f"FatalFault: {exc.message}"))
            continue
        back_links = _Links(ident, _View.of(back), record_url)
        _own(back_links, rid)
        _back(back_links, rid)
        forth_links = _Links(ident, _View.of(forth), record_url, done=set(back_links.done))
        _forth(forth_links, rid)
        rows += sorted(back_links.rows + forth_links.rows, key=_order)
        if provsap:
            rows.append(
                Link(
                    id=ident,
                    semantics=AUXILIARY,
                    service_def=PROVSAP_DESCRIPTOR,
                    description="the provenance of this dataset (ProvSAP: DEPTH, DIRECTION, RESPONSEFORMAT)",
                    local_semantics=PROVENANCE,
                    record=rid,
                )
            )
    return rows


#: the XML ID of the ProvSAP service descriptor in a links document
PROVSAP_DESCRIPTOR = "provsap"
