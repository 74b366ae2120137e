"""Records: the backend-neutral form in which stores keep PROV, and the encoding of their values.

:class:`Node` records (entities, activities, agents) and :class:`Relation` records carry *all*
their attributes as an ordered list of ``[name, value]`` pairs in a JSON-safe encoding that keeps
namespaces, datatypes and language tags (:mod:`provhub.provdm.codec` turns a document into records and
back; :mod:`provhub.provdm.merge` merges records).

Encoding of a value (and of an attribute name, which is a qualified name):

=====================  ==============================================
qualified name         ``{"qn": [namespace_uri, local_part, prefix]}``
URI (xsd:anyURI)       ``{"uri": "..."}``
typed literal          ``{"lit": lexical, "dt": datatype_iri}``
language string        ``{"lit": text, "lang": "en"}``
xsd:dateTime           ``{"time": "2020-01-01T00:00:00+00:00"}``
str / int / float /    the JSON value itself
bool
=====================  ==============================================

Ids are full IRIs. Anonymous relations get a deterministic id minted from their content
(``urn:provhub:anon:<sha1>``). Further assertions of an id that do not unify with the first (a
relation's or an activity's formal attributes that differ, or an element of a second kind) get a
store key ``urn:provhub:repeat:<sha1>`` and keep the id as their qualified name, so they are
written back under it (see :func:`provhub.provdm.codec.records_and_hash`).

This module imports nothing else of provdm, so that every other module can import it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from dataclasses import dataclass, field
from typing import Any

from prov.identifier import Identifier, QualifiedName
from prov.model import Literal

ANON_PREFIX = "urn:provhub:anon:"
#: store keys of further assertions of one relation id (``qn`` is the id; see provhub.provdm.codec)
REPEAT_PREFIX = "urn:provhub:repeat:"
ELEMENT_KINDS = ("entity", "activity", "agent")


@dataclass
class Node:
    """An entity, activity or agent. ``attrs`` holds every attribute (formal ones included)."""

    id: str
    kind: str
    qn: list  # [namespace_uri, local, prefix]
    attrs: list = field(default_factory=list)

    @property
    def name(self) -> str:
        """The element's id as written in PROV; its store key is another for a further assertion
        of the id (another kind, or formal attributes that do not unify): see
        :func:`provhub.provdm.codec.records_and_hash`."""
        return qn_iri(self.qn)

    @property
    def repeat(self) -> bool:
        """A further assertion of the id :attr:`name` (stored under a key of its own)."""
        return self.id.startswith(REPEAT_PREFIX)


@dataclass
class Relation:
    """A relation record; ``src``/``dst`` are its first two formal arguments (IRIs)."""

    id: str
    type: str
    src: str | None
    dst: str | None
    category: str
    qn: list | None  # None for anonymous relations
    attrs: list = field(default_factory=list)

    @property
    def anonymous(self) -> bool:
        return self.id.startswith(ANON_PREFIX)

    @property
    def name(self) -> str:
        """The relation's id as written in PROV (its store key is another for a repeated
        assertion, see :func:`provhub.provdm.codec.records_and_hash`)."""
        return qn_iri(self.qn) if self.qn else self.id


@dataclass
class Graph:
    """A set of records, e.g. a lineage answer."""

    nodes: list[Node] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)

    def node_ids(self) -> set[str]:
        return {n.id for n in self.nodes}


# -- values ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def encode_qn(qn: QualifiedName) -> dict:
    """``{"qn": [namespace_uri, local, prefix]}``; cached (attribute names and types repeat in every
    record; a small LRU: a large one kept ~300 MB alive in a long-running service),
    so the dict is shared: never change it in place."""
    return {"qn": [qn.namespace.uri, qn.localpart, qn.namespace.prefix]}


def encode_value(value: Any) -> Any:
    if isinstance(value, QualifiedName):
        return encode_qn(value)
    if isinstance(value, Identifier):
        return {"uri": value.uri}
    if isinstance(value, Literal):
        out: dict = {"lit": value.value}
        if value.langtag:
            out["lang"] = value.langtag
        elif value.datatype is not None:
            out["dt"] = value.datatype.uri
        return out
    if isinstance(value, _dt.datetime):
        return {"time": value.isoformat()}
    if isinstance(value, (bool, int, float, str)):
        return value
    return {"lit": str(value)}


def value_key(encoded: Any) -> str:
    """A comparison key of an encoded value that ignores namespace prefixes (and keeps types:
    ``1``, ``1.0``, ``True`` and ``"1"`` are four values, as in prov 3)."""
    kind = type(encoded)
    if kind is str:
        return "s:" + encoded
    if kind is int:
        return "i:" + str(encoded)
    if kind is dict and "qn" in encoded:
        return "qn:" + encoded["qn"][0] + encoded["qn"][1]
    return _sorted_tree_json(encoded)


def attr_iri(encoded_name: dict) -> str:
    ns, local = encoded_name["qn"][0], encoded_name["qn"][1]
    return ns + local


#: json.dumps's exact text of a tree of lists and dicts (a record, its attributes, a canonical
#: line), from one encoder that skips the check for circular references: 0.55 -> 0.42 s for the
#: attributes of 10^5 records. Stores keep attributes and qualified names in it; hashes read it.
tree_json = json.JSONEncoder(check_circular=False).encode
_sorted_tree_json = json.JSONEncoder(check_circular=False, sort_keys=True).encode


def qn_iri(qn: list) -> str:
    return qn[0] + qn[1]


__all__ = [
    "ANON_PREFIX",
    "REPEAT_PREFIX",
    "ELEMENT_KINDS",
    "Node",
    "Relation",
    "Graph",
    "encode_qn",
    "encode_value",
    "value_key",
    "attr_iri",
    "qn_iri",
    "tree_json",
]
