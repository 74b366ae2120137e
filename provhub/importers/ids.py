"""Deterministic identifiers of imported records.

Every importer mints ids here, so that the same file, observation, product or agent gets the
same IRI whichever importer meets it first (``import-fits``, ``import-datastore``,
``import-analysis``, ``import-ctapipe-log``). See docs/importers.md, "Id scheme".
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from urllib.parse import quote

from prov.identifier import Namespace, QualifiedName

BASE = "https://provhub.org/id/"

FILE = Namespace("phfile", BASE + "file/")
CTA_PRODUCT = Namespace("ctaprod", BASE + "cta/product/")
CTA_ACTIVITY = Namespace("ctaact", BASE + "cta/activity/")
OBS = Namespace("phobs", BASE + "obs/")
AGENT = Namespace("phagent", BASE + "agent/")
DESCRIPTION = Namespace("phdesc", BASE + "description/")
INSTRUMENT = Namespace("phinst", BASE + "instrument/")
#: OpenLineage runs (by runId) and datasets (by namespace and name), docs/model.md
OPENLINEAGE_RUN = Namespace("olrun", BASE + "openlineage/run/")
OPENLINEAGE_DATASET = Namespace("olds", BASE + "openlineage/dataset/")

_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]")


def part(text) -> str:
    """One path segment of an id: stripped, percent-encoded except unreserved characters."""
    return quote(str(text).strip(), safe="") or "_"


def header_digest(hdus: list[list[tuple]]) -> str:
    """sha256 of the headers of a file: every card's keyword and value, HDU by HDU, in order.

    Values count, not their layout in the 80-character card, so a header-only upload and the
    file give the same digest."""
    h = hashlib.sha256()
    for cards in hdus:
        for keyword, value in cards:
            h.update(f"{keyword}\x1f{type(value).__name__}\x1f{value!r}\n".encode("utf-8", "replace"))
        h.update(b"\x1e")
    return h.hexdigest()


def file_digest(path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks (config files, logs)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_by_digest(hexdigest: str) -> QualifiedName:
    return FILE["hdr-sha256-" + hexdigest]


def file_by_bytes(hexdigest: str) -> QualifiedName:
    return FILE["sha256-" + hexdigest]


def file_by_md5(md5: str) -> QualifiedName:
    return FILE["md5-" + md5.strip().lower()]


def file_by_product(product_id: str) -> QualifiedName:
    return CTA_PRODUCT[part(product_id)]


def file_name(reference: str) -> str:
    """The base name a reference points at: IRAF ``dir$name`` and directories are dropped."""
    ref = str(reference).strip().replace("\\", "/")
    ref = ref.rsplit("$", 1)[-1]
    return posixpath.basename(ref.rstrip("/")) or ref


def file_by_name(reference: str) -> QualifiedName:
    """Placeholder of a file known only by name (not part of the import)."""
    return FILE["name/" + part(file_name(reference))]


def hdu(file_qn: QualifiedName, hdu_name: str) -> QualifiedName:
    return file_qn.namespace[file_qn.localpart + "/" + part(hdu_name)]


def sub(qn: QualifiedName, *segments) -> QualifiedName:
    """A record derived from another one: ``<qn>/<segment>/...``."""
    return qn.namespace["/".join([qn.localpart] + [part(s) for s in segments])]


def observation(telescope: str, obs_id) -> QualifiedName:
    return OBS[part(telescope or "unknown") + "/" + part(obs_id)]


def software(name: str, version: str | None = None) -> QualifiedName:
    return AGENT["software/" + part(name) + ("/" + part(version) if version else "")]


def person(name: str, email: str | None = None) -> QualifiedName:
    return AGENT["person/" + part(email or name)]


def organization(name: str) -> QualifiedName:
    return AGENT["org/" + part(name)]


def openlineage_run(run_id: str) -> QualifiedName:
    """An OpenLineage run (its UUID, lower-case): every event of the run names this activity."""
    return OPENLINEAGE_RUN[part(run_id.lower())]


def openlineage_job(namespace: str, name: str) -> QualifiedName:
    """An OpenLineage job, the ActivityDescription of its runs."""
    return DESCRIPTION["openlineage/" + part(namespace) + "/" + part(name)]


def openlineage_dataset(namespace: str, name: str) -> QualifiedName:
    return OPENLINEAGE_DATASET[part(namespace) + "/" + part(name)]


def local_path(path) -> str:
    """A path as recorded in prov:location: as given, with forward slashes."""
    return os.fspath(path).replace(os.sep, "/")
