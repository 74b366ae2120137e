"""What every importer returns, its numbered warnings, and the small document builder they share.

An importer turns files into one :class:`prov.model.ProvDocument` (IVOA records are W3C records
typed ``voprov:*``), a list of :class:`ImportWarning` and a :class:`FileStatus` per input file.
Warnings never stop a batch: a file that cannot be read is reported (status ``failed``) and the
other files are imported. The codes are listed in :data:`WARNING_CODES` and in
``docs/importers.md`` (like pyvo's ``W01``... spec warnings).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from prov.identifier import Namespace, QualifiedName
from prov.model import PROV, ProvDocument

from provhub.provdm.vocabulary import FITS, PROVHUB, VOPROV

#: code -> one-line meaning (documented in docs/importers.md; a test checks both agree).
WARNING_CODES = {
    "W01": "file cannot be read as FITS (not FITS, truncated, missing): the file is skipped",
    "W02": "astropy reported a problem in a header card (non-standard card, fixed value); the card is kept as read",
    "W03": "a keyword occurs more than once in one HDU; every value is kept (multi-valued attribute)",
    "W04": "OBS_ID is a string (or not an integer); it was converted, or kept as text when not a number",
    "W05": "a date/time value cannot be parsed; it is kept as text only",
    "W06": "a referenced file is not part of this import; it is represented by a name-based placeholder entity",
    "W07": "an index row points at a file that is absent; the HDU is represented by a name-based placeholder",
    "W08": "an index table is missing, unreadable or lacks required columns",
    "W09": "the analysis configuration cannot be resolved (datastore, selection or product missing)",
    "W10": "a selected observation has no DL3 rows in the HDU index, or lacks a required IRF",
    "W11": "a ctapipe provenance log chunk is not valid JSON or an activity lacks expected fields",
    "W12": "two HDUs share an extension name; the later one is named by its index",
    "W13": "metadata is incomplete (e.g. CTA reference keywords without a product id); mapped as far as possible",
    "W14": "more warnings than an import lists (MAX_WARNINGS); the others are counted, not listed",
    "W15": "an IRF table cannot be summarised (field of view, PSF); its HDU has no summary attributes",
}


@dataclass(frozen=True)
class ImportWarning:
    code: str
    message: str
    file: str | None = None

    def __post_init__(self):
        if self.code not in WARNING_CODES:
            raise ValueError(f"undocumented import warning code {self.code}")

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{self.code} {where}{self.message}"


@dataclass
class FileStatus:
    """One input file of an import: ``status`` is ``ok``, ``warnings`` or ``failed``."""

    path: str
    status: str = "ok"
    entity: str | None = None  # IRI of the file entity
    hdus: int = 0
    keywords: int = 0
    message: str = ""


@dataclass
class ImportResult:
    document: ProvDocument
    warnings: list[ImportWarning] = field(default_factory=list)
    files: list[FileStatus] = field(default_factory=list)

    @property
    def failed(self) -> list[FileStatus]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def keywords(self) -> int:
        return sum(f.keywords for f in self.files)


#: most warnings one import lists (a header of 10^5 odd cards would otherwise list 10^5)
MAX_WARNINGS = 1000


class Warnings:
    """Collects warnings of one import and marks the files they concern: each warning once (a set,
    so that many warnings cost linear time), at most :data:`MAX_WARNINGS`, then one W14 that
    counts the rest."""

    def __init__(self, limit: int = MAX_WARNINGS):
        self.items: list[ImportWarning] = []
        self.files: dict[str, FileStatus] = {}
        self.limit = limit
        self.unlisted = 0
        self._seen: set[ImportWarning] = set()

    def file(self, path: str) -> FileStatus:
        if path not in self.files:
            self.files[path] = FileStatus(str(path))
        return self.files[path]

    def add(self, code: str, message: str, file: str | None = None, *, failed: bool = False):
        warning = ImportWarning(code, message, None if file is None else str(file))
        if warning not in self._seen:
            self._seen.add(warning)
            if len(self._seen) <= self.limit:
                self.items.append(warning)
            else:
                self.unlisted += 1
                summary = ImportWarning(
                    "W14", f"{self.unlisted} more warning(s) not listed (the first {self.limit} are)"
                )
                if self.unlisted == 1:
                    self.items.append(summary)
                else:
                    self.items[-1] = summary
        if file is not None:
            status = self.file(str(file))
            if failed:
                status.status, status.message = "failed", message
            elif status.status == "ok":
                status.status = "warnings"


# -- values ------------------------------------------------------------------------------------


def parse_time(text: Any) -> _dt.datetime | None:
    """A FITS/CTA time string as a timezone-aware UTC datetime, else None.

    Accepts ``YYYY-MM-DD HH:MM:SS.sss`` (ctapipe, UTC, no ``T``), ISO 8601 with ``T``, a date
    alone and the old FITS ``dd/mm/yy`` form (19yy). Values with an offset are converted to UTC.
    """
    if not isinstance(text, str):
        return None
    s = text.strip()
    if not s:
        return None
    if len(s) == 8 and s[2] == "/" and s[5] == "/":
        day, month, year = s.split("/")
        s = f"19{year}-{month}-{day}"
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    try:
        value = _dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def literal(value: Any) -> Any:
    """A header/table value as a PROV attribute value (bool, int, float, str)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, bool) or isinstance(value, int) or isinstance(value, str):
        return value.strip() if isinstance(value, str) else value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if value is None or type(value).__name__ == "Undefined":
        return ""
    return str(value)


# -- document builder --------------------------------------------------------------------------

_ELEMENT_KINDS = ("entity", "activity", "agent")


def _value_key(value: Any) -> tuple:
    return (type(value).__name__, value.isoformat() if isinstance(value, _dt.datetime) else value)


class DocBuilder:
    """Accumulates PROV records with set semantics, then builds one deterministic ProvDocument.

    Elements asserted twice merge their attributes; relations asserted twice are kept once.
    Attribute names are QualifiedNames; values are literals, datetimes or QualifiedNames.
    """

    def __init__(self):
        # qn -> [kind, {name: [values]}, {formal name: value}, {(name, value key)}]
        self._elements: dict[QualifiedName, list] = {}
        self._relations: dict[tuple, tuple] = {}
        self._namespaces: dict[str, Namespace] = {}
        for ns in (VOPROV, PROVHUB, FITS):
            self.namespace(ns)

    def namespace(self, ns: Namespace) -> Namespace:
        self._namespaces.setdefault(ns.prefix, ns)
        return ns

    def _element(self, kind: str, qn: QualifiedName, attrs: Iterable, formal: dict | None = None):
        self.namespace(qn.namespace)
        record = self._elements.get(qn)
        if record is None:
            record = self._elements[qn] = [kind, {}, {}, set()]
        self.add_attributes(qn, attrs)
        for name, value in (formal or {}).items():
            if value is not None:
                record[2].setdefault(name, value)
        return qn

    def add_attributes(self, qn: QualifiedName, attrs: Iterable):
        values_by_name, seen = self._elements[qn][1], self._elements[qn][3]
        for name, value in attrs:
            if value is None:
                continue
            key = (name, _value_key(value))
            if key in seen:
                continue
            seen.add(key)
            self.namespace(name.namespace)
            if isinstance(value, QualifiedName):
                self.namespace(value.namespace)
            values_by_name.setdefault(name, []).append(value)

    def replace(self, qn: QualifiedName, name: QualifiedName, value) -> None:
        """Make ``value`` the only value of attribute ``name`` of the element ``qn`` (asserted
        already): an importer that knows better than a generic mapper says it once."""
        values_by_name, seen = self._elements[qn][1], self._elements[qn][3]
        for old in values_by_name.pop(name, []):
            seen.discard((name, _value_key(old)))
        self.add_attributes(qn, [(name, value)])

    def has(self, qn: QualifiedName) -> bool:
        return qn in self._elements

    def entity(self, qn: QualifiedName, attrs: Iterable = ()) -> QualifiedName:
        return self._element("entity", qn, attrs)

    def activity(self, qn: QualifiedName, attrs: Iterable = (), start=None, end=None) -> QualifiedName:
        return self._element("activity", qn, attrs, {"startTime": start, "endTime": end})

    def agent(self, qn: QualifiedName, attrs: Iterable = ()) -> QualifiedName:
        return self._element("agent", qn, attrs)

    def relation(self, kind: str, *args, attrs: Iterable = ()):
        """``kind`` is a ProvBundle method name (used, wasGeneratedBy, hadMember, ...)."""
        attrs = tuple((n, v) for n, v in attrs if v is not None)
        for n, v in attrs:
            self.namespace(n.namespace)
            if isinstance(v, QualifiedName):
                self.namespace(v.namespace)
        key = (
            kind,
            tuple(_value_key(a) if not isinstance(a, QualifiedName) else a for a in args),
            tuple(sorted((str(n), repr(_value_key(v))) for n, v in attrs)),
        )
        self._relations.setdefault(key, (kind, args, attrs))

    # IVOA helpers ----------------------------------------------------------------------------

    def configured_by(self, activity: QualifiedName, artefact: QualifiedName, artefact_type: str):
        """voprov:wasConfiguredBy, expressed as wasInfluencedBy typed voprov:wasConfiguredBy."""
        self.relation(
            "wasInfluencedBy",
            activity,
            artefact,
            attrs=[(PROV["type"], VOPROV["wasConfiguredBy"]), (VOPROV["artefactType"], artefact_type)],
        )

    def described_by(self, record: QualifiedName, description: QualifiedName):
        self.relation("wasInfluencedBy", record, description, attrs=[(PROV["type"], VOPROV["isDescribedBy"])])

    def parameter(self, qn: QualifiedName, activity: QualifiedName, name: str, value: Any):
        self.entity(
            qn,
            [
                (PROV["type"], VOPROV["Parameter"]),
                (PROV["label"], name),
                (VOPROV["name"], name),
                (VOPROV["value"], literal(value)),
            ],
        )
        self.configured_by(activity, qn, "Parameter")

    def software(self, qn: QualifiedName, name: str, version: str | None = None) -> QualifiedName:
        label = f"{name} {version}" if version else name
        return self.agent(
            qn,
            [
                (PROV["type"], PROV["SoftwareAgent"]),
                (PROV["label"], label),
                (VOPROV["name"], name),
                (VOPROV["version"], version),
            ],
        )

    # output ----------------------------------------------------------------------------------

    def build(self) -> ProvDocument:
        doc = ProvDocument()
        for prefix in sorted(self._namespaces):
            if prefix not in ("prov", "xsd"):
                doc.add_namespace(self._namespaces[prefix])
        order = sorted(self._elements.items(), key=lambda item: (_ELEMENT_KINDS.index(item[1][0]), item[0].uri))
        for qn, (kind, values_by_name, formal, _seen) in order:
            attrs = [(name, v) for name, values in values_by_name.items() for v in values]
            if kind == "activity":
                doc.activity(qn, formal.get("startTime"), formal.get("endTime"), other_attributes=attrs)
            else:
                getattr(doc, kind)(qn, other_attributes=attrs)
        for kind, args, attrs in self._relations.values():
            method = getattr(doc, kind)
            if kind == "hadMember":
                method(*args)
            else:
                method(*args, other_attributes=list(attrs) or None)
        return doc
