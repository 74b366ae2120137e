"""VOTable documents provhub writes: DALI error documents and (PROV-VOTABLE) lineage answers.

Every document is VOTable 1.4 (namespace ``http://www.ivoa.net/xml/VOTable/v1.3``) with one
``RESOURCE type="results"`` that opens with ``INFO name="QUERY_STATUS"`` (DALI 1.1 section 4.4:
``OK``, ``ERROR`` or ``OVERFLOW``). ``tests/api/test_dali.py`` reads each with astropy in pedantic
mode (``verify="exception"``) and checks it with STILTS ``votlint``.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

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


__all__ = ["MEDIA_TYPE", "VOTABLE_NS", "attr", "document", "error_document", "info", "text"]
