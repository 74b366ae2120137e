"""Read what the ``voprov`` package writes, as W3C PROV, without importing voprov.

voprov 0.0.4 (IVOA ProvenanceDM on prov 2) cannot be imported with prov 3, and prov 3 cannot read
its output. It writes four kinds of documents; :func:`to_w3c` turns each into PROV-JSON in
provhub's mapping of IVOA onto W3C (:mod:`provhub.provdm.vocabulary`):

==================  ==========================================================================
native JSON         PROV-JSON with IVOA sections (``parameter``, ``isDescribedBy``...) whose
                    relations name their ends ``voprov:described``/``voprov:descriptor``...
native XML          ``voprov:document`` with ``voprov:id``/``voprov:ref`` and IVOA elements
PROV-N              IVOA statements: ``parameter(id, name, value, [...])``,
                    ``wasConfiguredBy(activity, parameter, Parameter)``...
get_w3c() JSON      PROV-JSON that uses ``voprov:`` names without declaring the prefix
==================  ==========================================================================

The translation, for all four:

- an IVOA element (``parameter``, ``activityDescription``...) becomes an ``entity`` with
  ``prov:type`` = ``voprov:<Class>``;
- an IVOA relation becomes ``wasInfluencedBy`` (its first argument is ``prov:influencee``, the
  second ``prov:influencer``) with ``prov:type`` = ``voprov:isDescribedBy`` / ``isRelatedTo`` /
  ``wasConfiguredBy`` (``voprov:artefactType`` kept) / ``hadReference``; get_w3c()'s names
  (``voprov:DescriptionRelation``...) are renamed to these, and the ``voprov:artefactType`` that
  get_w3c() drops is restored from the type of the configuring record when the document has it;
- voprov's ``prov:name`` (not a PROV term) becomes ``voprov:name``, copied to ``prov:label`` when
  the record has none; a Parameter's ``prov:value`` is also given as ``voprov:value``;
- an agent's ``voprov:type`` SoftwareAgent/Person/Organization (``Individual`` = Person) adds
  ``prov:type`` ``prov:SoftwareAgent``...;
- every other attribute is kept as it is, with its datatype (voprov writes some qualified names,
  e.g. the ``voprov:descriptor`` of a ``used``, as bare strings in JSON: they are typed back).

PROV-N and XML are first rewritten into standard PROV-N/PROV-XML (the IVOA statements and elements
only) and read with prov, so prov parses every value. voprov's PROV-N writes the formal arguments
of IVOA statements unquoted, so a name or value holding a comma cannot be split: such a statement
raises :class:`~provhub.provdm.errors.MalformedDocument`, as does any input that cannot be translated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from . import vocabulary as voc
from .errors import MalformedDocument
from .formats import parse_w3c, prov_text  # formats imports voprov inside parse_any only

#: voprov's record name -> IVOA class, for the elements that become W3C entities.
ELEMENT_CLASSES = {cls[0].lower() + cls[1:]: cls for cls in voc.IVOA_ENTITY_CLASSES}

#: voprov's IVOA relations -> the local names of the attributes holding their two ends; the first
#: end becomes prov:influencee, the second prov:influencer.
RELATION_ENDS = {
    "isDescribedBy": ("described", "descriptor"),
    "isRelatedTo": ("related", "relator"),
    "wasConfiguredBy": ("configured", "configurator"),
    "hadReference": ("referenced", "referrer"),
}

#: The prov:type get_w3c() gives each IVOA relation -> provhub's name for it.
W3C_RELATION_NAMES = {
    "DescriptionRelation": "isDescribedBy",
    "RelatedToRelation": "isRelatedTo",
    "ConfigurationRelation": "wasConfiguredBy",
    "HadReference": "hadReference",
}

#: Attributes voprov holds qualified names in (written as bare strings in its JSON).
QNAME_ATTRIBUTES = {end for ends in RELATION_ENDS.values() for end in ends}

#: Formal arguments of voprov's PROV-N statements after the id (elements) or after the two ends
#: (relations), as (namespace, local name); "voprov" stands for the document's voprov prefix.
PROVN_ARGUMENTS = {
    "activityDescription": (("prov", "name"),),
    "entityDescription": (("prov", "name"),),
    "valueDescription": (("prov", "name"), ("voprov", "valueType")),
    "datasetDescription": (("prov", "name"), ("voprov", "contentType")),
    "configFileDescription": (("prov", "name"), ("voprov", "contentType")),
    "parameterDescription": (("prov", "name"), ("voprov", "valueType")),
    "usageDescription": (("prov", "role"),),
    "generationDescription": (("prov", "role"),),
    "configFile": (("prov", "name"), ("prov", "location")),
    "parameter": (("prov", "name"), ("prov", "value")),
    "valueEntity": (),
    "datasetEntity": (),
    "isDescribedBy": (),
    "isRelatedTo": (),
    "wasConfiguredBy": (("voprov", "artefactType"),),
    "hadReference": (),
}

#: An agent's voprov:type -> the W3C agent type it adds.
AGENT_TYPES = {
    "SoftwareAgent": "SoftwareAgent",
    "Person": "Person",
    "Individual": "Person",
    "Organization": "Organization",
}

#: wasConfiguredBy's artefactType, from the IVOA class of the configuring record.
ARTEFACT_TYPES = {"Parameter": "Parameter", "ConfigFile": "ConfigFile"}

KIND_NATIVE_JSON = "native JSON"
KIND_XML = "XML"
KIND_PROVN = "PROV-N"
KIND_W3C_JSON = "get_w3c() JSON"

_QN_TYPE = "prov:QUALIFIED_NAME"
_PROV_NS = f"{{{voc.PROV_URI}}}"
_XSI_NS = "{http://www.w3.org/2001/XMLSchema-instance}"
_PROVN_STATEMENT = re.compile(r"(?<![\w:.\-])(" + "|".join(PROVN_ARGUMENTS) + r")\s*\(")
_PROVN_WORD = re.compile(r"[A-Za-z_][\w.\-:]*")


# -- what kind of voprov output ----------------------------------------------------------------


def voprov_kind(text: str, fmt: str) -> str | None:
    """Which of voprov's outputs ``text`` is (KIND_*), or None when it does not look like one."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        if _has_ivoa_sections(data):
            return KIND_NATIVE_JSON
        if "voprov" not in _prefixes(data) and '"voprov:' in text:
            return KIND_W3C_JSON
        return None
    if fmt == "xml":
        try:
            root = _xml_root(text)
        except MalformedDocument:
            return None
        return KIND_XML if etree.QName(root).namespace in voc.VOPROV_URIS else None
    if fmt == "provn":
        return KIND_PROVN if _PROVN_STATEMENT.search(text) else None
    return None


def looks_like_voprov(text: str, fmt: str) -> bool:
    """True when ``text`` (in ``fmt``: json, provn or xml) looks like something voprov wrote."""
    return voprov_kind(text, fmt) is not None


def _has_ivoa_sections(data: dict) -> bool:
    if any(key in ELEMENT_CLASSES or key in RELATION_ENDS for key in data):
        return True
    bundles = data.get("bundle")
    return isinstance(bundles, dict) and any(isinstance(b, dict) and _has_ivoa_sections(b) for b in bundles.values())


def _prefixes(data: dict) -> dict:
    prefixes = data.get("prefix", {})
    return prefixes if isinstance(prefixes, dict) else {}


# -- translation -------------------------------------------------------------------------------


def to_w3c(text: str, fmt: str) -> str:
    """PROV-JSON text (voprov prefix declared) for a document voprov wrote in ``fmt``.

    Raises :class:`~provhub.provdm.errors.MalformedDocument` (with ``where``) when it cannot translate.
    """
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedDocument(
                f"PROV-JSON syntax error: {exc.msg}", where=f"line {exc.lineno}, column {exc.colno}"
            ) from None
    elif fmt == "xml":
        data = _read_w3c(_provxml_of(text), "xml")
    elif fmt == "provn":
        data = _read_w3c(_provn_of(text), "provn")
    else:
        raise MalformedDocument(f"cannot translate voprov output in {fmt!r}", where="format")
    if not isinstance(data, dict):
        raise MalformedDocument("a PROV-JSON document must be a JSON object", where="(document)")
    prefixes = dict(_prefixes(data))
    voprov_prefixes = {p for p, uri in prefixes.items() if uri in voc.VOPROV_URIS}
    if not voprov_prefixes:  # get_w3c() output: its voprov: names are voprov's
        vp = "voprov" if "voprov" not in prefixes else "voprov_ivoa"
        prefixes[vp] = voc.VOPROV_URI
        voprov_prefixes.add(vp)
    out = {"prefix": prefixes}
    out.update(_w3c_container({k: v for k, v in data.items() if k != "prefix"}, _Names(voprov_prefixes), ""))
    return json.dumps(out, indent=2, ensure_ascii=False)


def _read_w3c(text: str, fmt: str) -> dict:
    """Parse standard PROV-N/PROV-XML with prov and return it as PROV-JSON data."""
    doc, _ = parse_w3c(text, fmt)
    return json.loads(prov_text(doc, "json"))


class _Names:
    """The voprov prefix written (``vp``) and every prefix the document binds to voprov."""

    def __init__(self, voprov_prefixes: set[str]):
        self.vp = "voprov" if "voprov" in voprov_prefixes else min(voprov_prefixes)
        self.voprov_prefixes = voprov_prefixes

    def local(self, name: str) -> str | None:
        """The local part of a voprov qualified name, else None."""
        prefix, sep, local = name.partition(":")
        return local if sep and prefix in self.voprov_prefixes else None

    def qn(self, local: str) -> dict:
        return {"$": f"{self.vp}:{local}", "type": _QN_TYPE}


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def _put(record: dict, key: str, value) -> None:
    """Add a value to a PROV-JSON record (several values of one attribute become a list)."""
    if key in record:
        record[key] = _values(record[key]) + _values(value)
    else:
        record[key] = value


def _lexical(value):
    return value.get("$") if isinstance(value, dict) else value


def _w3c_container(data: dict, names: _Names, where: str) -> dict:
    """The records of a document or bundle (no ``prefix``) in provhub's W3C mapping."""
    out: dict = {}
    for section, records in data.items():
        if section == "bundle" and isinstance(records, dict):
            out["bundle"] = {}
            for bid, bundle in records.items():
                if not isinstance(bundle, dict):
                    raise MalformedDocument("a bundle must be a JSON object", where=f"{where}bundle/{bid}")
                inner = {"prefix": bundle["prefix"]} if "prefix" in bundle else {}
                inner.update(
                    _w3c_container({k: v for k, v in bundle.items() if k != "prefix"}, names, f"{where}bundle/{bid}/")
                )
                out["bundle"][bid] = inner
            continue
        if not isinstance(records, dict):
            raise MalformedDocument(f"{section!r} must map record ids to records", where=f"{where}{section}")
        target = "entity" if section in ELEMENT_CLASSES else "wasInfluencedBy" if section in RELATION_ENDS else section
        for rid, body in records.items():
            for attrs in _values(body):
                if not isinstance(attrs, dict):
                    raise MalformedDocument("a record must be a JSON object", where=f"{where}{section}/{rid}")
                _put(out.setdefault(target, {}), rid, _w3c_record(section, attrs, names))
    _restore_artefact_types(out, names)
    return out


def _w3c_record(section: str, attrs: dict, names: _Names) -> dict:
    record: dict = {}
    if section in ELEMENT_CLASSES:
        record["prov:type"] = names.qn(ELEMENT_CLASSES[section])
    ends = RELATION_ENDS.get(section, ())
    for key, value in attrs.items():
        local = names.local(key)
        if local in ends:
            key = ("prov:influencee", "prov:influencer")[ends.index(local)]
        elif key == "prov:name":
            key = f"{names.vp}:name"
        elif local in QNAME_ATTRIBUTES:
            value = [{"$": v, "type": _QN_TYPE} if isinstance(v, str) else v for v in _values(value)]
        elif key == "prov:type":
            value = [_renamed_relation_type(v, names) for v in _values(value)]
        _put(record, key, value[0] if isinstance(value, list) and len(value) == 1 else value)
    if ends:
        _put(record, "prov:type", names.qn(section))
    vp = names.vp
    if section == "agent":
        for value in _values(record.get(f"{vp}:type", [])):
            w3c_type = AGENT_TYPES.get(_lexical(value))
            if w3c_type and f"prov:{w3c_type}" not in map(_lexical, _values(record.get("prov:type", []))):
                _put(record, "prov:type", {"$": f"prov:{w3c_type}", "type": _QN_TYPE})
    if f"{vp}:name" in record and "prov:label" not in record:
        record["prov:label"] = record[f"{vp}:name"]
    if "Parameter" in _ivoa_classes(record, names) and "prov:value" in record and f"{vp}:value" not in record:
        record[f"{vp}:value"] = record["prov:value"]
    return record


def _renamed_relation_type(value, names: _Names):
    local = names.local(_lexical(value)) if isinstance(_lexical(value), str) else None
    if local in W3C_RELATION_NAMES:
        return names.qn(W3C_RELATION_NAMES[local])
    return value


def _ivoa_classes(record: dict, names: _Names) -> set[str]:
    lexicals = map(_lexical, _values(record.get("prov:type", [])))
    return {local for v in lexicals if isinstance(v, str) and (local := names.local(v)) is not None}


def _restore_artefact_types(container: dict, names: _Names) -> None:
    """Give a wasConfiguredBy without voprov:artefactType (get_w3c() drops it) the class of its
    configuring record, when that record is in the same container."""
    key = f"{names.vp}:artefactType"
    classes = {
        rid: _ivoa_classes(body, names)
        for rid, bodies in container.get("entity", {}).items()
        for body in _values(bodies)
    }
    for bodies in container.get("wasInfluencedBy", {}).values():
        for body in _values(bodies):
            if "wasConfiguredBy" not in _ivoa_classes(body, names) or key in body:
                continue
            found = sorted(
                ARTEFACT_TYPES[c] for c in classes.get(body.get("prov:influencer"), ()) if c in ARTEFACT_TYPES
            )
            if found:
                body[key] = found[0]


# -- native XML -> PROV-XML --------------------------------------------------------------------


def _xml_root(text: str):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        return etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (None, None)
        raise MalformedDocument(
            f"XML syntax error: {exc.msg}", where=f"line {line}, column {col}" if line else None
        ) from None


def _provxml_of(text: str) -> str:
    """Rewrite voprov's XML into PROV-XML: voprov structure names into prov ones, IVOA elements
    into prov:entity and IVOA relations into prov:wasInfluencedBy, each with its prov:type."""
    root = _xml_root(text)
    ns = etree.QName(root).namespace
    if ns not in voc.VOPROV_URIS:
        raise MalformedDocument(
            f"not a voprov XML document: the root element is {root.tag}", where=f"line {root.sourceline}"
        )
    vp = next((p for p, uri in root.nsmap.items() if uri == ns and p), "voprov")
    root.tag = _PROV_NS + "document"
    for element in root.iter():
        for attr in ("id", "ref"):
            value = element.attrib.pop(f"{{{ns}}}{attr}", None)
            if value is not None:
                element.set(_PROV_NS + attr, value)
    for record in list(root):
        if etree.QName(record).namespace != ns:
            continue
        if etree.QName(record).localname == "bundleContent":
            record.tag = _PROV_NS + "bundleContent"
            for inner in list(record):
                if etree.QName(inner).namespace == ns:
                    _provxml_record(inner, ns, vp)
        else:
            _provxml_record(record, ns, vp)
    return "\n" * (root.sourceline - 1) + etree.tostring(root, encoding="unicode")


def _provxml_record(record, ns: str, vp: str) -> None:
    name = etree.QName(record).localname
    if name in ELEMENT_CLASSES:
        record.tag = _PROV_NS + "entity"
        ivoa_type = ELEMENT_CLASSES[name]
    elif name in RELATION_ENDS:
        record.tag = _PROV_NS + "wasInfluencedBy"
        ivoa_type = name
        ends = RELATION_ENDS[name]
        for child in record:
            q = etree.QName(child)
            if q.namespace == ns and q.localname in ends:
                child.tag = _PROV_NS + ("influencee", "influencer")[ends.index(q.localname)]
    else:
        record.tag = _PROV_NS + name
        return
    type_element = etree.SubElement(record, _PROV_NS + "type", {_XSI_NS + "type": "xsd:QName"})
    type_element.text = f"{vp}:{ivoa_type}"


# -- voprov PROV-N -> PROV-N -------------------------------------------------------------------


def _provn_of(text: str) -> str:
    """Rewrite the IVOA statements of voprov's PROV-N into standard PROV-N statements; everything
    else (strings, comments, IRIs, other statements) is copied as it is, line numbers kept."""
    uris = "|".join(map(re.escape, voc.VOPROV_URIS))
    m = re.search(r"\bprefix\s+([A-Za-z_][\w.\-]*)\s*<(" + uris + ")>", text)
    vp = m.group(1) if m else "voprov"
    if not m:  # declare it on the line of ``document`` (line numbers stay those of the input)
        text = re.sub(r"\bdocument\b", f"document prefix voprov <{voc.VOPROV_URI}>", text, count=1)

    def rewrite(keyword: str, args: list[str], line: int) -> str | None:
        if keyword not in PROVN_ARGUMENTS:
            return None
        return _w3c_statement(keyword, args, vp, f"line {line}")

    return _rewrite_statements(text, rewrite)


def _rewrite_statements(text: str, rewrite: Callable[[str, list[str], int], str | None]) -> str:
    """``text`` with each statement ``keyword(args)`` replaced by ``rewrite(keyword, args, line)``
    (None: kept); strings, comments and IRIs are copied as they are, line numbers kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        end = _skip_token(text, i)
        if end is not None:
            out.append(text[i:end])
            i = end
            continue
        word = _PROVN_WORD.match(text, i)
        if not word:
            out.append(text[i])
            i += 1
            continue
        k = word.end()
        while k < n and text[k] in " \t":
            k += 1
        if k >= n or text[k] != "(":
            out.append(text[i : word.end()])
            i = word.end()
            continue
        close = _closing(text, k)
        statement = rewrite(word.group(), _split_arguments(text[k + 1 : close]), text.count("\n", 0, i) + 1)
        if statement is None:
            out.append(text[i : word.end()])
            i = word.end()
            continue
        out.append(statement + "\n" * max(0, text.count("\n", i, close) - statement.count("\n")))
        i = close + 1
    return "".join(out)


def _skip_token(text: str, i: int) -> int | None:
    """End of the string, comment or IRI starting at ``i``, else None."""
    if text.startswith('"""', i):
        end = text.find('"""', i + 3)
        while end > 0 and text[end - 1] == "\\":
            end = text.find('"""', end + 1)
        return len(text) if end < 0 else end + 3
    c = text[i]
    if c in "\"'":
        j = i + 1
        while j < len(text) and text[j] != c:
            j += 2 if text[j] == "\\" else 1
        return min(j + 1, len(text))
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    if c == "<":
        end = text.find(">", i)
        return len(text) if end < 0 else end + 1
    return None


def _scan(text: str, start: int = 0):
    """Yield ``(index, character, depth)`` for each character outside strings from ``start``;
    depth counts the ``(`` and ``[`` open around the character."""
    depth, i = 0, start
    while i < len(text):
        end = _skip_token(text, i) if text[i] in "\"'" else None
        if end is not None:
            i = end
            continue
        c = text[i]
        if c in ")]":
            depth -= 1
        yield i, c, depth
        if c in "([":
            depth += 1
        i += 1


def _closing(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at ``open_at``."""
    for i, c, depth in _scan(text, open_at):
        if c == ")" and depth == 0:
            return i
    line = text.count("\n", 0, open_at) + 1
    raise MalformedDocument("unbalanced parentheses in a voprov PROV-N statement", where=f"line {line}")


def _split_arguments(inner: str) -> list[str]:
    """Top-level arguments of a statement; a ``[...]`` attribute list stays one argument, and a
    relation id (``id; ...``) is followed by the argument ``";"``."""
    args, start = [], 0
    for i, c, depth in _scan(inner):
        if c in ",;" and depth == 0:
            args.append(inner[start:i].strip())
            if c == ";":
                args.append(";")
            start = i + 1
    args.append(inner[start:].strip())
    return args


def _provn_literal(value: str) -> str:
    """A formal argument voprov wrote unquoted (str(value)), as a PROV-N string literal."""
    if value.startswith('"'):
        return value  # already a literal (voprov wrote a prov Literal)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"""{escaped}"""' if "\n" in value else f'"{escaped}"'


def _w3c_statement(keyword: str, args: list[str], vp: str, where: str) -> str:
    relation_id = ""
    if len(args) > 1 and args[1] == ";":
        relation_id, args = args[0] + "; ", args[2:]
    attributes = args.pop()[1:-1].strip() if args and args[-1].startswith("[") else ""
    formals = PROVN_ARGUMENTS[keyword]
    head_count = 2 if keyword in RELATION_ENDS else 1
    head, values = args[:head_count], args[head_count:]
    if len(values) > len(formals) == 1:
        values = [", ".join(values)]  # an unquoted name that held a comma
    if len(head) != head_count or len(values) != len(formals):
        raise MalformedDocument(
            f"{keyword}(...) needs {head_count + len(formals)} arguments before its "
            f"attribute list, found {len(head) + len(values)}: a name or value with "
            "a comma cannot be read back from voprov's PROV-N",
            where=where,
        )
    ivoa_type = ELEMENT_CLASSES.get(keyword, keyword)
    extra = [f"prov:type='{vp}:{ivoa_type}'"]
    extra += [
        f"{vp if ns == 'voprov' else ns}:{local}={_provn_literal(value)}"
        for (ns, local), value in zip(formals, values, strict=True)
        if value != "-"
    ]
    if attributes:
        extra.append(attributes)
    record = "wasInfluencedBy" if keyword in RELATION_ENDS else "entity"
    return f"{record}({relation_id}{', '.join(head)}, [{', '.join(extra)}])"


# -- provhub's W3C mapping -> voprov's native PROV-JSON -----------------------------------------

#: IVOA class -> voprov's native section, and IVOA relation -> (section, its two ends)
NATIVE_SECTIONS = {cls: name for name, cls in ELEMENT_CLASSES.items()}
NATIVE_RELATIONS = {**{name: name for name in RELATION_ENDS}, **W3C_RELATION_NAMES}


def to_native(text: str, fmt: str = "json") -> str:
    """An answer in provhub's W3C mapping (what MODEL=W3C answers), in ``fmt`` (json, provn or
    xml), as voprov writes it natively (what MODEL=IVOA answers, as OPUS does): an entity typed
    ``voprov:<Class>`` becomes a record of its class (``parameter``, ``activityDescription``...)
    without that type, a ``wasInfluencedBy`` typed with an IVOA relation becomes that relation
    (``isDescribedBy``, ``wasConfiguredBy``...) with voprov's names of its two ends, and
    ``voprov:name`` is written ``prov:name``, as voprov does. In PROV-N the IVOA classes take
    voprov's formal arguments (``parameter(id, name, value, [...])``); in XML the document and
    its records are ``voprov:`` elements with ``voprov:id``/``voprov:ref``. :func:`to_w3c` reads
    each back to the same records; everything else is kept as it is. PROV-O (``ttl``,
    ``jsonld``), which voprov does not write, is returned as it is: an IVOA class stays an entity
    typed ``voprov:<Class>``, an IVOA relation a ``prov:Influence`` typed with it."""
    if fmt == "provn":
        return _native_provn(text)
    if fmt == "xml":
        return _native_xml(text)
    if fmt != "json":
        return text  # PROV-O (Turtle, JSON-LD): voprov writes none, the W3C mapping is the answer
    if not any(f':{name}"' in text for name in (*NATIVE_SECTIONS, *NATIVE_RELATIONS, "name")):
        return text  # nothing to rewrite (and large answers are not decoded)
    data = json.loads(text)
    vps = {p for p, uri in _prefixes(data).items() if uri in voc.VOPROV_URIS}
    if not vps:
        return text
    names = _Names(vps)
    out = {"prefix": data["prefix"]}
    out.update(_native_container({k: v for k, v in data.items() if k != "prefix"}, names))
    return json.dumps(out, ensure_ascii=False)


_decode = json.JSONDecoder().decode
_encode = json.JSONEncoder(ensure_ascii=False).encode


#: the version of the native writer (:func:`native_fragments` and what it calls): stores keep each
#: fragment's native form as written by it (:func:`native_fragment`) and write them again when
#: this changes. It is the digest of this module and of the vocabulary it reads, so that no
#: change to the writer can leave a store answering with forms an earlier one wrote
NATIVE_VERSION = hashlib.sha256(b"".join(Path(f).read_bytes() for f in (__file__, voc.__file__))).hexdigest()[:16]


def voprov_prefixes(declared: dict[str, str]) -> frozenset[str]:
    """The prefixes of ``declared`` that name voprov's namespace: all that a fragment's native
    rewrite depends on besides the fragment (:func:`native_fragments`)."""
    return frozenset(p for p, uri in declared.items() if uri in voc.VOPROV_URIS)


def native_fragment(section: str, body: str, prefixes: str) -> str | None:
    """A stored fragment (``section``, ``body`` text, its ``prefixes`` as JSON text) as
    :func:`native_fragments` rewrites it in an answer whose voprov prefixes are the fragment's
    own, as ``section + TAB + body`` (JSON text holds no raw tab); None when it does not change.
    A store keeps it beside the fragment when it writes the record, so that a MODEL=IVOA
    answer joins it as it is (:func:`provhub.provdm.provjson.join_fragments`)."""
    rewrite = _fragment_rewrite(prefixes)
    if rewrite is None:
        return None
    target, text = rewrite(section, body)
    return None if (target, text) == (section, body) else f"{target}\t{text}"


@functools.lru_cache(maxsize=1024)
def _fragment_rewrite(prefixes: str) -> Callable[[str, str], tuple[str, str]] | None:
    return native_fragments(json.loads(prefixes))  # fragments share a few prefix texts


def native_fragments(declared: dict[str, str]) -> Callable[[str, str], tuple[str, str]] | None:
    """What :func:`to_native` does to a PROV-JSON answer, one record at a time, for the record
    fragments an answer is joined from (:func:`provhub.provdm.provjson.join_fragments`):
    ``rewrite(section, body_text) -> (section, body_text)``, given the answer's prefixes; None
    when no prefix is voprov's (nothing changes). Only a fragment that may change (an IVOA class
    or relation type, a ``voprov:name``) is decoded, so a large answer in MODEL=IVOA costs about
    what its W3C form does."""
    vps = voprov_prefixes(declared)
    if not vps:
        return None
    names = _Names(set(vps))
    name = f'"{names.vp}:name"'
    prefixes = "|".join(map(re.escape, sorted(vps)))
    classes = "|".join(map(re.escape, sorted({*NATIVE_SECTIONS, *NATIVE_RELATIONS})))
    typed = re.compile(f'"(?:{prefixes}):(?:{classes})"').search  # an IVOA class or relation

    def rewrite(section: str, body: str) -> tuple[str, str]:
        if name not in body and (section not in _RETYPED or not typed(body)):
            return section, body
        attrs = _decode(body)
        target, record = _native_record(section, attrs, names)
        return target, (body if record is attrs else _encode(record))  # as json.dumps(ensure_ascii=False)

    return rewrite


def _native_container(data: dict, names: _Names) -> dict:
    out: dict = {}
    name = f"{names.vp}:name"
    for section, records in data.items():
        if section == "bundle" and isinstance(records, dict):
            out["bundle"] = {
                bid: {
                    **({"prefix": b["prefix"]} if "prefix" in b else {}),
                    **_native_container({k: v for k, v in b.items() if k != "prefix"}, names),
                }
                for bid, b in records.items()
            }
            continue
        if section not in _RETYPED and section not in out and not _any_key(records, name):
            out[section] = records  # nothing in it changes (most of a large answer): kept as decoded
            continue
        for rid, body in records.items():
            for attrs in _values(body):
                target, record = _native_record(section, attrs, names)
                _put(out.setdefault(target, {}), rid, record)
    return out


#: the sections whose records can become records of another section (an IVOA class or relation)
_RETYPED = ("entity", "wasInfluencedBy")


def _any_key(records: dict, key: str) -> bool:
    return any(key in attrs for body in records.values() for attrs in _values(body))


def _native_record(section: str, attrs: dict, names: _Names) -> tuple[str, dict]:
    if "prov:type" not in attrs and f"{names.vp}:name" not in attrs:
        return section, attrs  # nothing to change
    types = [v for v in _values(attrs.get("prov:type", [])) if isinstance(_lexical(v), str)]
    local = [names.local(_lexical(v)) for v in types]
    target: str = section
    ends: tuple[str, ...] = ()
    if section == "entity":
        found = [c for c in local if c in NATIVE_SECTIONS]
        if found:
            target = NATIVE_SECTIONS[found[0]]
    elif section == "wasInfluencedBy":
        found = [c for c in local if c in NATIVE_RELATIONS]
        if found:
            target = NATIVE_RELATIONS[found[0]]
            ends = RELATION_ENDS[target]
    if target == section:
        name = f"{names.vp}:name"
        if name not in attrs:
            return section, attrs
        return section, {("prov:name" if key == name else key): value for key, value in attrs.items()}
    record: dict = {}
    kept = [v for v, c in zip(types, local, strict=True) if c not in NATIVE_SECTIONS and c not in NATIVE_RELATIONS]
    for key, value in attrs.items():
        if key == "prov:type":
            if kept:
                record[key] = kept[0] if len(kept) == 1 else kept
            continue
        if ends and key in ("prov:influencee", "prov:influencer"):
            key = f"{names.vp}:{ends[0 if key == 'prov:influencee' else 1]}"
        elif key == f"{names.vp}:name":
            key = "prov:name"
        elif key == f"{names.vp}:value" and target == "parameter" and attrs.get("prov:value") == value:
            continue  # to_w3c's copy of prov:value
        record[key] = value
    return target, record


# -- provhub's W3C mapping -> voprov's native PROV-N and XML ------------------------------------


def _native_provn(text: str) -> str:
    """PROV-N as prov writes it (one statement per record) with its IVOA records as voprov's
    statements: ``parameter(id, "name", "value", [...])``, ``isDescribedBy(a, b)``... A formal
    argument is written as a string literal, so a comma in a name reads back; a value that is not
    a plain string stays in the attribute list and the argument is ``-``."""
    uris = "|".join(map(re.escape, voc.VOPROV_URIS))
    vps = set(re.findall(r"\bprefix\s+([A-Za-z_][\w.\-]*)\s*<(?:" + uris + ")>", text))
    if not vps:
        return text
    names = _Names(vps)

    def rewrite(keyword: str, args: list[str], line: int) -> str | None:
        if keyword in ("prefix", "default", "bundle"):
            return None
        return _native_statement(keyword, args, names)

    return _rewrite_statements(text, rewrite)


def _attribute_items(args: list[str]) -> list[tuple[str, str]]:
    """The ``key=value`` items of the attribute list ending ``args`` (taken off ``args``)."""
    if not args or not args[-1].startswith("["):
        return []
    inner = args.pop()[1:-1].strip()
    items = []
    for item in _split_arguments(inner) if inner else []:
        key, _, value = item.partition("=")
        items.append((key.strip(), value.strip()))
    return items


def _native_statement(keyword: str, args: list[str], names: _Names) -> str:
    relation_id = ""
    if len(args) > 1 and args[1] == ";":
        relation_id, args = args[0] + "; ", args[2:]
    items = _attribute_items(args)
    vp = names.vp
    target = keyword
    if keyword in ("entity", "wasInfluencedBy"):
        table = NATIVE_SECTIONS if keyword == "entity" else NATIVE_RELATIONS
        for key, value in items:
            local = names.local(value.strip("'")) if key == "prov:type" and value.startswith("'") else None
            if local in table:
                target = table[local]
                items.remove((key, value))
                break
    formals: list[str] = []
    if target != keyword:
        head = args[: 2 if keyword == "wasInfluencedBy" else 1]
        for ns, local in PROVN_ARGUMENTS[target]:
            key = f"{vp}:name" if (ns, local) == ("prov", "name") else f"{vp if ns == 'voprov' else ns}:{local}"
            found = next((v for k, v in items if k == key and _plain_string(v)), None)
            if found is None:
                formals.append("-")
            else:
                items.remove((key, found))
                formals.append(found)
        if target == "parameter":
            value = next((v for k, v in items if k == "prov:value"), formals[1] if len(formals) > 1 else "-")
            if (f"{vp}:value", value) in items:
                items.remove((f"{vp}:value", value))  # to_w3c's copy of prov:value
        args = head
    items = [("prov:name" if key == f"{vp}:name" else key, value) for key, value in items]
    attributes = [f"[{', '.join(f'{k}={v}' for k, v in items)}]"] if items else []
    return f"{target}({relation_id}{', '.join([*args, *formals, *attributes])})"


def _plain_string(value: str) -> bool:
    """A PROV-N string literal without a datatype or language tag."""
    return value.startswith('"') and (value.endswith('"') and not value.endswith('\\"') or value == '""')


#: PROV-XML's elements for typed agents -> their prov:type
XML_AGENT_TYPES = {"person": "Person", "organization": "Organization", "softwareAgent": "SoftwareAgent"}


def _native_xml(text: str) -> str:
    """PROV-XML as prov writes it, as voprov's XML: a ``voprov:document`` whose records are
    ``voprov:`` elements with ``voprov:id``/``voprov:ref``, IVOA records as their classes'
    elements (``voprov:parameter``, ``voprov:isDescribedBy`` with ``voprov:described``...)."""
    root = _xml_root(text)
    vps = {p for p, uri in root.nsmap.items() if p and uri in voc.VOPROV_URIS}
    nsmap = dict(root.nsmap)
    if not vps:
        vps = {"voprov" if "voprov" not in nsmap else "voprov_ivoa"}
        nsmap[next(iter(vps))] = voc.VOPROV_URI
    names = _Names(vps)
    vns = "{" + nsmap[names.vp] + "}"
    document = etree.Element(vns + "document", nsmap=nsmap)
    document.text = root.text
    for record in list(root):
        if etree.QName(record).localname == "bundleContent":
            record.tag = vns + "bundleContent"
            for inner in list(record):
                _native_xml_record(inner, names, vns)
        else:
            _native_xml_record(record, names, vns)
        document.append(record)
    for element in document.iter():
        for attr in ("id", "ref"):
            value = element.attrib.pop(_PROV_NS + attr, None)
            if value is not None:
                element.set(vns + attr, value)
    return "<?xml version='1.0' encoding='UTF-8'?>\n" + etree.tostring(document, encoding="unicode")


def _native_xml_record(record, names: _Names, vns: str) -> None:
    if not isinstance(record.tag, str) or not record.tag.startswith(_PROV_NS):
        return
    section = etree.QName(record).localname
    target = section
    table = NATIVE_SECTIONS if section == "entity" else NATIVE_RELATIONS if section == "wasInfluencedBy" else {}
    for child in record:
        if child.tag == _PROV_NS + "type" and (local := names.local((child.text or "").strip())) in table:
            target = table[local]
            record.remove(child)
            break
    if target in XML_AGENT_TYPES:  # prov writes a typed agent as <prov:person>...; voprov as an agent
        type_element = etree.Element(_PROV_NS + "type", {_XSI_NS + "type": "xsd:QName"})
        type_element.text = f"prov:{XML_AGENT_TYPES[target]}"
        record.insert(0, type_element)
        target = "agent"
    record.tag = vns + target
    ends = RELATION_ENDS.get(target, ()) if section == "wasInfluencedBy" else ()
    value = None
    for child in list(record):
        if ends and child.tag in (_PROV_NS + "influencee", _PROV_NS + "influencer"):
            child.tag = vns + ends[0 if child.tag == _PROV_NS + "influencee" else 1]
        elif child.tag == vns + "name":
            child.tag = _PROV_NS + "name"
        elif child.tag == _PROV_NS + "value":
            value = child.text
    if target == "parameter":
        for child in record.findall(vns + "value"):
            if child.text == value:
                record.remove(child)  # to_w3c's copy of prov:value
