"""VOTable documents provhub writes: DALI error documents and (PROV-VOTABLE) lineage answers.

Every document is VOTable 1.4 (namespace ``http://www.ivoa.net/xml/VOTable/v1.3``) with one
``RESOURCE type="results"`` that opens with ``INFO name="QUERY_STATUS"`` (DALI 1.1 section 4.4:
``OK``, ``ERROR`` or ``OVERFLOW``). ``tests/api/test_dali.py`` reads each with astropy in pedantic
mode (``verify="exception"``) and checks it with STILTS ``votlint``.

A PROV-VOTABLE answer (:func:`write_votable`) holds one table per kind of record, always all of
them, in this order: ``entity``, ``activity``, ``agent``, then one per PROV relation named by its
PROV-N name (``wasGeneratedBy``, ``used``, ...), then ``prefix``. The tables and columns the
ProvenanceDM draft's PROV-VOTable section describes (:data:`_DRAFT`) have its utypes, UCDs and
names (``ent_id``, ``ent_name``, ``act_startTime``, ``used_ent_id``, ``wgb_act_id``,
``waw_agt_role``...). Entities of the four IVOA classes the draft gives tables to (EntityDescription,
ActivityDescription, Parameter, ParameterDescription) are rows of those tables, after ``agent``. The others are provhub's: ``id``, ``type``, ``time``, and for the other ends
of a relation the snake_case PROV formal attribute with ``_id`` (``generated_entity_id``,
``used_entity_id``, ``plan_id``). Every attribute without a column of its own is kept in
``attributes``, a JSON object (name -> value, or a list of values).
Several values of a column are joined (names and annotations with ``; ``, types and roles with a
blank) and datatypes are not kept: PROV-JSON is the lossless answer. Ids are prefixed names;
``prefix`` maps each prefix to its namespace. Times are DALI timestamps (``xtype="timestamp"``,
UTC). Text columns are ``unicodeChar``, whose UCS-2 cannot hold characters beyond the Basic
Multilingual Plane: those are written as U+FFFD there (``attributes`` is ASCII JSON, with
``\\u`` escapes).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

from prov.constants import PROV, PROV_LABEL, PROV_ROLE, PROV_TYPE
from prov.model import PROV_N_MAP, PROV_REC_CLS, Literal, ProvDocument, ProvElement, ProvEntity, QualifiedName

from .vocabulary import VOPROV_URIS

VOTABLE_NS = "http://www.ivoa.net/xml/VOTable/v1.3"
MEDIA_TYPE = "application/x-votable+xml"

#: characters XML 1.0 does not allow (a message may quote whatever a caller sent)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text(value: object) -> str:
    """``value`` as XML character data."""
    return escape(_NOT_XML.sub("\ufffd", str(value)))


def attr(value: object) -> str:
    """``value`` as a quoted XML attribute."""
    return quoteattr(_NOT_XML.sub("\ufffd", str(value)))


def info(name: str, value: object, content: str | None = None, indent: str = "  ") -> str:
    body = f">{text(content)}</INFO>" if content else "/>"
    return f"{indent}<INFO name={attr(name)} value={attr(value)}{body}\n"


def document(resource: str) -> str:
    """A VOTable holding one ``RESOURCE type="results"`` with ``resource`` inside."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<VOTABLE version="1.4" xmlns="{VOTABLE_NS}">\n'
        f' <RESOURCE type="results">\n{resource} </RESOURCE>\n</VOTABLE>\n'
    )


def error_document(message: str, *, code: str, where: str | None = None, runid: str | None = None) -> str:
    """A DALI error document (DALI 1.1 section 4.4.2): ``QUERY_STATUS=ERROR`` with the message as
    its content, then provhub's error code, where the error is and the caller's RUNID."""
    infos = info("QUERY_STATUS", "ERROR", message) + info("ERROR_CODE", code)
    if where:
        infos += info("WHERE", where)
    if runid:
        infos += info("RUNID", runid)
    return document(infos)


# -- PROV-VOTABLE ---------------------------------------------------------------------------------

#: text columns: unicodeChar (VOTable's char is ASCII only); times and the JSON are ASCII
_CHAR = 'datatype="unicodeChar" arraysize="*"'
_ASCII = 'datatype="char" arraysize="*"'
_TIME = f'{_ASCII} xtype="timestamp"'
_REF = f'{_CHAR} ucd="meta.id"'
#: characters beyond the Basic Multilingual Plane, which unicodeChar (UCS-2) cannot hold
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")
#: formal attributes that are times -> (column, UCD); the others name records
_TIMES = {"startTime": ("starttime", "time.start"), "endTime": ("endtime", "time.end"), "time": ("time", "time.epoch")}
_TYPE = ("type", f'{_CHAR} ucd="meta.code.class"', "prov:type values, blank-separated")
_ATTRIBUTES = ("attributes", _ASCII, "every other attribute, as a JSON object (name -> value or list of values)")
#: how the values of a column with several are joined
_JOIN = {"name": "; ", "annotation": "; "}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _formal_column(local: str) -> str:
    return _TIMES[local][0] if local in _TIMES else f"{_snake(local)}_id"


def _columns(cls) -> list[tuple[str, str, str]]:
    """(column, VOTable attributes, description) of the table of records of prov class ``cls``."""
    formal = []
    for name in cls.FORMAL_ATTRIBUTES:
        local = name.localpart
        if local in _TIMES:
            formal.append((_TIMES[local][0], f'{_TIME} ucd="{_TIMES[local][1]}"', f"prov:{local} (UTC)"))
        else:
            formal.append((_formal_column(local), _REF, f"prov:{local}: the identifier of the record it names"))
    if issubclass(cls, ProvElement):
        return [
            ("id", f'{_CHAR} ucd="meta.id;meta.main"', "identifier of the record"),
            ("name", _CHAR, "name of the record (prov:label)"),
            _TYPE,
            *formal,
            ("annotation", f'{_CHAR} ucd="meta.note"', "comment on the record (voprov:comment)"),
            _ATTRIBUTES,
        ]
    return [
        ("id", _REF, "identifier of the relation, if it has one"),
        *formal,
        ("role", _CHAR, "prov:role values, blank-separated"),
        _TYPE,
        _ATTRIBUTES,
    ]


#: the tables of an answer: (name, prov class), elements first
_TABLES = sorted(
    ((PROV_N_MAP[t], cls) for t, cls in PROV_REC_CLS.items()),
    key=lambda item: not issubclass(item[1], ProvElement),
)


#: the PROV-VOTable serialisation of the ProvenanceDM working draft ("PROV-VOTable serialisation
#: and ProvTAP TAP schema", doc/PROV-VOTABLE.tex in ivoa-std/ProvenanceDM): a table's utype, and
#: for its columns (by provhub's key) the draft's name, utype and UCD. The draft makes the utypes
#: and UCDs normative, not the names; provhub takes its names too. Two of its UCDs are not UCD1+
#: words, and astropy and votlint refuse them: time.end is written for "time.stop" and meta.note
#: for "meta.description".
_DRAFT: dict[str, tuple[str, dict[str, tuple[str, str, str | None]]]] = {
    "entity": (
        "voprov:entity",
        {
            "id": ("ent_id", "voprov:entity.id", None),
            "name": ("ent_name", "voprov:entity.name", "meta.title"),
            "type": ("ent_type", "voprov:entity.type", "meta.code.class"),
            "annotation": ("ent_annotation", "voprov:entity.annotation", "meta.note"),
        },
    ),
    "activity": (
        "voprov:activity",
        {
            "id": ("act_id", "voprov:activity.identifier", None),
            "name": ("act_name", "voprov:activity.name", "meta.title"),
            "starttime": ("act_startTime", "voprov:activity.startTime", "time.start"),
            "endtime": ("act_stopTime", "voprov:activity.stopTime", "time.end"),
            "annotation": ("act_annotation", "voprov:activity.annotation", "meta.note"),
        },
    ),
    "agent": (
        "voprov:Agent",
        {
            "id": ("agt_id", "voprov:agent.id", None),
            "name": ("agt_name", "voprov:agent.name", "meta.title"),
            "type": ("agt_type", "voprov:agent.type", "meta.code.class"),
        },
    ),
    "used": (
        "voprov:used",
        {
            "entity_id": ("used_ent_id", "voprov:used.Entity", "meta.id"),
            "activity_id": ("used_act_id", "voprov:used.Activity", "meta.id"),
            "role": ("used_ent_role", "voprov:used.entityRole", "meta.code.class"),
        },
    ),
    "wasGeneratedBy": (
        "voprov:wasGeneratedBy",
        {
            "entity_id": ("wgb_ent_id", "voprov:wasGeneratedBy.Entity", "meta.id"),
            "activity_id": ("wgb_act_id", "voprov:wasGeneratedBy.Activity", "meta.id"),
            "role": ("wgb_ent_role", "voprov:wasGeneratedBy.entityRole", "meta.code.class"),
        },
    ),
    "wasAssociatedWith": (
        "voprov:wasAssociatedWith",
        {
            "agent_id": ("waw_agt_id", "voprov:wasAssociatedWith.Agent", "meta.id"),
            "activity_id": ("waw_act_id", "voprov:wasAssociatedWith.Activity", "meta.id"),
            "role": ("waw_agt_role", "voprov:wasAssociatedWith.agentRole", "meta.code.class"),
        },
    ),
    "wasAttributedTo": (
        "voprov:wasAttributedTo",
        {
            "entity_id": ("wat_ent_id", "voprov:wasAttributedTo.Entity", "meta.id"),
            "agent_id": ("wat_agt_id", "voprov:wasAttributedTo.Agent", "meta.id"),
            "role": ("wat_agt_role", "voprov:wasAttributedTo.agentRole", "meta.code.class"),
        },
    ),
}


def _field(key: str, name: str, utype: str, ucd: str, description: str) -> tuple[str, str, str, str]:
    return key, name, f"{_CHAR} ucd={attr(ucd)} utype={attr(utype)}", description


#: the draft's tables of IVOA descriptions: (table, the voprov type of its rows, utype, prefix of its
#: columns' names and utypes, [(key, column, UCD, what)] after the id); a row is an entity whose
#: prov:type is that voprov type (provhub's W3C mapping), its columns the voprov attributes the
#: ProvenanceDM Recommendation names (``docurl`` for the draft's doculink, ``description`` for its
#: annotation, ``valueType`` for its datatype)
_DESCRIPTION_TABLES = (
    (
        "entityDescription",
        "EntityDescription",
        "voprov:entityDescription",
        "entDesc",
        [
            ("name", "name", "meta.title", "name (prov:label)"),
            ("v:docurl", "doculink", "meta.ref.url", "documentation (voprov:docurl)"),
            ("v:category", "category", "meta.code.class", "voprov:category"),
            ("v:description", "annotation", "meta.note", "voprov:description"),
        ],
    ),
    (
        "activityDescription",
        "ActivityDescription",
        "voprov:activityDescription",
        "actDesc",
        [
            ("name", "name", "meta.title", "name (prov:label)"),
            ("v:type", "type", "meta.code.class", "voprov:type"),
            ("v:subtype", "subtype", "meta.code.class", "voprov:subtype"),
            ("v:description", "annotation", "meta.note", "voprov:description"),
            ("v:docurl", "doculink", "meta.ref.url", "documentation (voprov:docurl)"),
        ],
    ),
    (
        "parameter",
        "Parameter",
        "voprov:Parameter",
        "par",
        [("v:value", "value", "stat.value", "voprov:value")],
    ),
    (
        "parameterDescription",
        "ParameterDescription",
        "voprov:ParameterDesc",
        "parDesc",
        [
            ("name", "name", "meta.title", "name (prov:label)"),
            ("v:description", "annotation", "meta.note", "voprov:description"),
            ("v:valueType", "datatype", "meta.code", "voprov:valueType"),
            ("v:unit", "unit", "meta.unit", "voprov:unit"),
            ("v:ucd", "ucd", "meta.ucd", "voprov:ucd"),
            ("v:utype", "utype", "meta.code", "voprov:utype"),
            ("v:min", "min", "stat.value;stat.min", "voprov:min"),
            ("v:max", "max", "stat.value;stat.max", "voprov:max"),
            ("v:options", "options", "meta.code", "voprov:options"),
        ],
    ),
)


def _description_columns(base: str, prefix: str, fields) -> list[tuple[str, str, str, str]]:
    """The columns of a description table; ``base`` names the draft's utypes of its fields."""
    return [
        _field("id", f"{prefix}_id", f"voprov:{base}.id", "meta.id;meta.main", "identifier of the record"),
        *(_field(k, f"{prefix}_{c}", f"voprov:{base}.{c}", ucd, what) for k, c, ucd, what in fields),
        ("type", "type", f'{_CHAR} ucd="meta.code.class"', "prov:type values, blank-separated"),
        ("attributes", *_ATTRIBUTES),
    ]


def _description_table(rec) -> int | None:
    """The index in _DESCRIPTION_TABLES of the table an entity's row goes to, if any."""
    for value in rec.get_asserted_types():
        if isinstance(value, QualifiedName) and value.namespace.uri in VOPROV_URIS:
            for i, table in enumerate(_DESCRIPTION_TABLES):
                if table[1] == value.localpart:
                    return i
    return None


def _as_drafted(table: str, columns: list[tuple[str, str, str]]) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The table's utype attribute (or "") and its columns as (key, name, VOTable attributes,
    description), named, typed and given UCDs as the draft says where it has them."""
    utype, drafted = _DRAFT.get(table, ("", {}))
    out = []
    for key, attrs, description in columns:
        if key not in drafted:
            out.append((key, key, attrs, description))
            continue
        name, field_utype, ucd = drafted[key]
        if ucd is not None:
            attrs = re.sub(r' ucd="[^"]*"', "", attrs) + f' ucd="{ucd}"'
        out.append((key, name, f"{attrs} utype={attr(field_utype)}", description))
    return (f" utype={attr(utype)}" if utype else ""), out


def _timestamp(value) -> str:
    """A DALI timestamp (UTC, no zone) of a datetime; anything else as it is written."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return str(value)


def _plain(value):
    """An attribute value as JSON holds it."""
    if isinstance(value, Literal):
        return str(value.value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _column_of(name) -> str | None:
    if name == PROV_LABEL:
        return "name"
    if name == PROV_TYPE:
        return "type"
    if name == PROV_ROLE:
        return "role"
    if isinstance(name, QualifiedName) and name.namespace.uri in VOPROV_URIS:
        return "annotation" if name.localpart == "comment" else f"v:{name.localpart}"
    return None


def _row(rec, columns: list[str]) -> list[str]:
    """The cells of one record, in the order of ``columns``."""
    cells: dict[str, list[str]] = {}
    if rec.identifier is not None:
        cells["id"] = [str(rec.identifier)]
    for name, value in rec.formal_attributes:
        if value is not None:
            cells[_formal_column(name.localpart)] = [_timestamp(value)]
    rest: dict[str, list] = {}
    for name, value in rec.extra_attributes:
        column = _column_of(name)
        if column in columns:
            cells.setdefault(column, []).append(str(_plain(value)))
        else:
            rest.setdefault(str(name), []).append(_plain(value))
    if rest:
        obj = {k: v[0] if len(v) == 1 else v for k, v in rest.items()}
        cells["attributes"] = [json.dumps(obj, sort_keys=True)]
    return [_BEYOND_BMP.sub("\ufffd", _JOIN.get(c, " ").join(cells.get(c, []))) for c in columns]


def _table(name: str, columns, rows, description: str, utype: str = "") -> str:
    fields = "".join(
        f"   <FIELD name={attr(c)} {attrs}><DESCRIPTION>{text(d)}</DESCRIPTION></FIELD>\n"
        for _key, c, attrs, d in columns
    )
    data = "".join("     <TR>" + "".join(f"<TD>{text(v)}</TD>" for v in row) + "</TR>\n" for row in rows)
    return (
        f"  <TABLE name={attr(name)}{utype}>\n   <DESCRIPTION>{text(description)}</DESCRIPTION>\n{fields}"
        f"   <DATA><TABLEDATA>\n{data}   </TABLEDATA></DATA>\n  </TABLE>\n"
    )


def write_votable(doc: ProvDocument, *, overflow: bool = False, runid: str | None = None) -> str:
    """``doc`` as PROV-VOTABLE: its records in the tables of the module docstring. ``overflow``:
    the answer was cut at MAXREC (``QUERY_STATUS=OVERFLOW``, DALI 1.1 section 4.4.1)."""
    records: dict[type, list] = {}
    for rec in doc.get_records():
        records.setdefault(type(rec), []).append(rec)
    for bundle in doc.bundles:
        for rec in bundle.get_records():
            records.setdefault(type(rec), []).append(rec)
    body = info("QUERY_STATUS", "OVERFLOW" if overflow else "OK")
    if runid:
        body += info("RUNID", runid)
    described: list[list] = [[] for _ in _DESCRIPTION_TABLES]
    plain: list = []
    for rec in records.get(ProvEntity, []):
        i = _description_table(rec)
        (plain if i is None else described[i]).append(rec)
    records[ProvEntity] = plain
    for name, cls in _TABLES:
        utype, columns = _as_drafted(name, _columns(cls))
        keys = [key for key, *_ in columns]
        rows = [_row(rec, keys) for rec in records.get(cls, [])]
        what = "records" if issubclass(cls, ProvElement) else "relations"
        body += _table(name, columns, rows, f"The PROV {name} {what} of the answer", utype)
        if name == "agent":  # the draft's description tables follow the elements
            for (table, kind, table_utype, prefix, fields), recs in zip(_DESCRIPTION_TABLES, described, strict=True):
                columns = _description_columns(table, prefix, fields)
                keys = [key for key, *_ in columns]
                body += _table(
                    table,
                    columns,
                    [_row(rec, keys) for rec in recs],
                    f"The IVOA {kind} records of the answer (entities of prov:type voprov:{kind})",
                    f" utype={attr(table_utype)}",
                )
    prefixes = sorted({(ns.prefix, ns.uri) for ns in doc.namespaces} | {(PROV.prefix, PROV.uri)})
    prefix_columns = [
        ("prefix", "prefix", 'datatype="char" arraysize="*"', "the prefix of the identifiers"),
        ("namespace", "namespace", 'datatype="char" arraysize="*"', "the namespace IRI it stands for"),
    ]
    body += _table("prefix", prefix_columns, prefixes, "The prefixes of the identifiers in the other tables")
    return document(body)


__all__ = ["MEDIA_TYPE", "VOTABLE_NS", "attr", "document", "error_document", "info", "text", "write_votable"]
