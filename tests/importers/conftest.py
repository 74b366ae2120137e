"""Helpers of the importer tests: records of a document, attribute values, lineage closure.

Tests read the real files under data/ (paths relative to the repository root) and write
broken or synthetic FITS files with astropy into tmp_path; no mocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provhub.app.config import Settings
from provhub.provdm.codec import records_of

ROOT = Path(__file__).resolve().parents[2]
FITS_NS = "https://provhub.org/ns/fits#"
PROVHUB_NS = "https://provhub.org/ns#"
PROV_NS = "http://www.w3.org/ns/prov#"
VOPROV_NS = "http://www.ivoa.net/documents/ProvenanceDM/index.html#"
DATASTORE = "data/dl3/hess-dl3-dr1"
CRAB = (
    "data/dl5/gammapy-estimators-cc-by-nc-sa/crab_hess_fp/config.yaml",
    "data/dl5/gammapy-estimators-cc-by-nc-sa/crab_hess_fp/crab_hess_fp.fits",
)
PKS = (
    "data/dl5/gammapy-estimators-cc-by-nc-sa/pks2155_hess_lc/config.yaml",
    "data/dl5/gammapy-estimators-cc-by-nc-sa/pks2155_hess_lc/pks2155_hess_lc_3bins.fits",
)
CRAB_RUNS = (23523, 23526, 23559, 23592)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def sqlite_settings(tmp_path):
    return Settings(store_url=f"sqlite:///{tmp_path / 'provhub.db'}", auth="off", sample="off")


class Records:
    """Nodes and relations of one or more documents (by id), with small query helpers."""

    def __init__(self, *docs):
        self.nodes, self.relations, self._index = {}, [], {}
        for doc in docs:
            nodes, relations = records_of(doc)
            for node in nodes:
                self.nodes.setdefault(node.id, node)
                if node.attrs is not self.nodes[node.id].attrs:
                    self.nodes[node.id].attrs.extend(node.attrs)
            self.relations.extend(relations)

    def values(self, node_id: str, attribute_iri: str) -> list:
        if node_id not in self._index:
            index: dict = {}
            for n, v in self.nodes[node_id].attrs:
                index.setdefault(n["qn"][0] + n["qn"][1], []).append(plain(v))
            self._index[node_id] = index
        return self._index[node_id].get(attribute_iri, [])

    def fits(self, node_id: str, keyword_local: str) -> list:
        return self.values(node_id, FITS_NS + keyword_local)

    def related(self, rel_type: str, src: str | None = None, dst: str | None = None) -> list:
        return [
            r
            for r in self.relations
            if r.type == rel_type and (src is None or r.src == src) and (dst is None or r.dst == dst)
        ]

    def of_type(self, type_iri: str) -> list[str]:
        return sorted(i for i in self.nodes if type_iri in self.values(i, PROV_NS + "type"))

    def closure(self, start: str) -> set[str]:
        """Backward lineage of ``start``: causal relations followed from effect to cause, plus the
        collections (files) every reached node is a member of."""
        reached, todo = {start}, [start]
        causal = [r for r in self.relations if r.category in ("causal", "shortcut")]
        while todo:
            node = todo.pop()
            for r in causal:
                if r.src == node and r.dst and r.dst not in reached:
                    reached.add(r.dst)
                    todo.append(r.dst)
        members = {r.dst: r.src for r in self.relations if r.type == "hadMember"}
        return reached | {members[n] for n in reached if n in members}


def plain(value):
    """An encoded attribute value as a Python value (qualified names as IRIs)."""
    if isinstance(value, dict):
        if "qn" in value:
            return value["qn"][0] + value["qn"][1]
        if "time" in value:
            return value["time"]
        if "uri" in value:
            return value["uri"]
        return value.get("lit")
    return value
