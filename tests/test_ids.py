"""Document ids and anonymous relation ids are content hashes that stores keep: a document posted
again, to a store that an earlier provhub filled, is found by its id and stored once. Any change
to how they are computed breaks that, so they are pinned here."""

from __future__ import annotations

from provhub.app import services
from provhub.app.config import Settings
from benchmarks import generator as gen
from tests.conftest import ROOT

SETTINGS = Settings.from_env({"PROVHUB_AUTH": "off"})


def _ids(text: str, fmt: str) -> tuple[str, str]:
    prepared, _ = services.prepare(text, fmt, settings=SETTINGS)
    anonymous = sorted(r.id for r in prepared.relations if r.id.startswith("urn:provhub:anon:"))
    return prepared.id, anonymous[0]


def test_ids_of_a_document_read_by_prov():
    text = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
    assert _ids(text, "provn") == (
        "45b881f098722416b8e4452dff52188f",
        "urn:provhub:anon:2703c58cae7f5271b5e943812ae82dd7f1290126",
    )


def test_ids_of_a_plain_provjson_document_read_by_the_json_reader():
    doc = next(d for d in gen.documents(3000, 1) if d.name == "run-10000")
    assert _ids(doc.text(), "json") == (
        "73bc36432a5d81a6b1ffc92d585d4f77",
        "urn:provhub:anon:0071382fcd8d64ea41885fa5025a102b942d055e",
    )
