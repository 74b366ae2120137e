"""DataLink 1.1 ``{links}`` documents: what a dataset links to, as VO clients read it.

:func:`write_links` writes the VOTable DataLink 1.1 section 3 defines: one ``RESOURCE
type="results"`` holding one table with the standard columns (:data:`COLUMNS`, names, datatypes
and UCDs as the standard gives them) in TABLEDATA, then any service descriptors
(``RESOURCE type="meta" utype="adhoc:service"``, DataLink 1.1 section 4). Each row has exactly
one of ``access_url``, ``service_def`` and ``error_message``.

The semantics are terms of the IVOA datalink/core vocabulary (:data:`CORE`), written as
``#term``; which records get which term is decided in :mod:`provhub.app.datalink`, and docs/api.md says
why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .votable import attr, document, info, text

#: the IVOA vocabulary the semantics column draws from (DataLink 1.1 section 3.2.6)
CORE = "http://www.ivoa.net/rdf/datalink/core"
THIS, PROGENITOR, DERIVATION, CALIBRATION, AUXILIARY = (
    "#this",
    "#progenitor",
    "#derivation",
    "#calibration",
    "#auxiliary",
)
#: the media type of a links document (DataLink 1.1 section 3.1)
MEDIA_TYPE = "application/x-votable+xml;content=datalink"

_CHAR = 'datatype="char" arraysize="*"'
#: (name, VOTable attributes, description): DataLink 1.1 section 3.2, in its order
COLUMNS = (
    ("ID", f'{_CHAR} ucd="meta.id;meta.main"', "the identifier the links are of, as asked"),
    ("access_url", f'{_CHAR} ucd="meta.ref.url"', "URL of the linked resource"),
    ("service_def", f'{_CHAR} ucd="meta.ref"', "ID of the service descriptor to call"),
    ("error_message", f'{_CHAR} ucd="meta.code.error"', "why there is no link"),
    ("semantics", f'{_CHAR} ucd="meta.code"', "term of " + CORE),
    ("description", f'{_CHAR} ucd="meta.note"', "what the linked resource is"),
    ("content_type", f'{_CHAR} ucd="meta.code.mime"', "media type of the linked resource"),
    ("content_length", 'datatype="long" unit="byte" ucd="phys.size;meta.file"', "size of the linked resource"),
    ("content_qualifier", f'{_CHAR} ucd="meta.code.class"', "what kind of product the resource is"),
    ("local_semantics", f'{_CHAR} ucd="meta.code"', "provhub's finer kind of link (AEFF, GTI, configuration...)"),
    ("link_auth", f'{_CHAR} ucd="meta.code"', "false, optional or true: whether the link needs authentication"),
    ("link_authorized", 'datatype="boolean" ucd="meta.code"', "whether this caller may follow the link"),
)


@dataclass(frozen=True)
class Link:
    """One row of a links document."""

    id: str
    semantics: str = THIS
    access_url: str | None = None
    service_def: str | None = None
    error_message: str | None = None
    description: str = ""
    content_type: str | None = None
    content_length: int | None = None
    content_qualifier: str | None = None
    local_semantics: str | None = None
    link_auth: str | None = None
    link_authorized: bool | None = None
    #: not written: the record the link is to, and the location of the file holding it (the
    #: bundle reads them)
    record: str | None = field(default=None, compare=False)
    file: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ServiceParam:
    name: str
    value: str = ""
    description: str = ""
    #: the FIELD whose value the parameter takes from the row (``ref``), e.g. ``ID``
    ref: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceDescriptor:
    """A ``RESOURCE type="meta" utype="adhoc:service"`` (DataLink 1.1 section 4.1)."""

    id: str
    access_url: str
    standard_id: str | None = None
    description: str = ""
    params: tuple[ServiceParam, ...] = ()


def _cell(link: Link, name: str) -> str:
    value = getattr(link, name.lower() if name == "ID" else name)
    if value is None:
        return "<TD/>"
    if isinstance(value, bool):
        return f"<TD>{'T' if value else 'F'}</TD>"
    return f"<TD>{text(value)}</TD>"


def _param(name: str, value: str, *, extra: str = "", description: str = "", body: str = "") -> str:
    inner = (f"<DESCRIPTION>{text(description)}</DESCRIPTION>" if description else "") + body
    tail = f">{inner}</PARAM>" if inner else "/>"
    return f"<PARAM name={attr(name)} {_CHAR} value={attr(value)}{extra}{tail}"


def _descriptor(sd: ServiceDescriptor) -> str:
    lines = [f' <RESOURCE type="meta" utype="adhoc:service" ID={attr(sd.id)}>\n']
    if sd.description:
        lines.append(f"  <DESCRIPTION>{text(sd.description)}</DESCRIPTION>\n")
    if sd.standard_id:
        lines.append("  " + _param("standardID", sd.standard_id) + "\n")
    lines.append("  " + _param("accessURL", sd.access_url) + "\n")
    if sd.params:
        lines.append('  <GROUP name="inputParams">\n')
        for p in sd.params:
            options = "".join(f"<OPTION value={attr(o)}/>" for o in p.options)
            body = f"<VALUES>{options}</VALUES>" if options else ""
            ref = f" ref={attr(p.ref)}" if p.ref else ""
            lines.append("   " + _param(p.name, p.value, extra=ref, description=p.description, body=body) + "\n")
        lines.append("  </GROUP>\n")
    lines.append(" </RESOURCE>\n")
    return "".join(lines)


def write_links(links: list[Link], services: tuple[ServiceDescriptor, ...] = ()) -> str:
    """The ``{links}`` VOTable of ``links`` (rows in this order) and ``services``."""
    fields = "".join(
        f"   <FIELD name={attr(name)} ID={attr(_field_id(name))} {attrs}><DESCRIPTION>{text(d)}</DESCRIPTION></FIELD>\n"
        for name, attrs, d in COLUMNS
    )
    rows = "".join("     <TR>" + "".join(_cell(link, c) for c, _, _ in COLUMNS) + "</TR>\n" for link in links)
    table = (
        info("QUERY_STATUS", "OK")
        + '  <TABLE name="links">\n'
        + f"{fields}   <DATA><TABLEDATA>\n{rows}   </TABLEDATA></DATA>\n  </TABLE>\n"
    )
    doc = document(table)
    if services:
        doc = doc.replace("</VOTABLE>\n", "".join(_descriptor(sd) for sd in services) + "</VOTABLE>\n")
    return doc


def _field_id(name: str) -> str:
    """The XML ID of a column's FIELD (a service parameter refers to it with ``ref``)."""
    return "col_" + name


__all__ = ["CORE", "COLUMNS", "Link", "MEDIA_TYPE", "ServiceDescriptor", "ServiceParam", "write_links"]
