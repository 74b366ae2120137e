"""Generated analysis chains for the impact / diff tests, built with the importers' document
builder (so the records look as the importers write them): per observation an IRF and a DL3
dataset derived from it, an analysis that used the DL3 datasets (software with a version, a
person, parameters, a configuration file) and the DL5 product it generated."""

from __future__ import annotations

from prov.identifier import Namespace
from prov.model import PROV

from provhub.importers.base import DocBuilder
from provhub.provdm.vocabulary import PROVHUB, VOPROV

EX = Namespace("ex", "http://example.org/chain/")

BASE = {
    "obs": (1, 2),
    "irf": {},  # obs -> IRF production of that observation (default prod5-v0.1)
    "software": ("gammapy", "1.2"),
    "params": {"energy.min": "0.2 TeV", "energy.max": "30 TeV", "nbins": 15},
    "config": "a" * 64,
    "agent": "Alice",
}


def irf_id(obs: int, production: str):
    return EX[f"irf/{obs}/{production}"]


def dl3_id(obs: int, production: str):
    return EX[f"dl3/{obs}/{production}"]


def analysis(b: DocBuilder, tag: str, **changes) -> str:
    """Add the chain ``tag`` (BASE with ``changes``) to ``b``; return the product's IRI."""
    spec = {**BASE, **changes}
    act = EX[f"{tag}/analysis"]
    b.activity(act, [(PROV["type"], PROVHUB["Analysis"]), (PROV["label"], f"analysis {tag}")])
    for obs in spec["obs"]:
        production = spec["irf"].get(obs, "prod5-v0.1")
        irf = b.entity(
            irf_id(obs, production),
            [
                (PROV["type"], EX["aeff"]),
                (PROV["label"], f"AEFF of observation {obs}"),
                (VOPROV["version"], production),
                (PROVHUB["obsId"], obs),
            ],
        )
        dl3 = b.entity(dl3_id(obs, production), [(PROV["label"], f"DL3 observation {obs}"), (PROVHUB["obsId"], obs)])
        b.relation("wasDerivedFrom", dl3, irf)
        b.relation("used", act, dl3, None, attrs=[(PROV["role"], "observation")])
    name, version = spec["software"]
    b.relation("wasAssociatedWith", act, b.software(EX[f"software/{name}/{version}"], name, version), None)
    person = b.agent(EX[f"person/{spec['agent']}"], [(PROV["type"], PROV["Person"]), (PROV["label"], spec["agent"])])
    b.relation("wasAssociatedWith", act, person, None)
    for key, value in spec["params"].items():
        b.parameter(EX[f"{tag}/param/{key}"], act, key, value)
    cfg = b.entity(
        EX["config/sha256-" + spec["config"]],
        [
            (PROV["type"], VOPROV["ConfigFile"]),
            (PROV["label"], "config.yaml"),
            (PROV["location"], f"{tag}/config.yaml"),
        ],
    )
    b.configured_by(act, cfg, "ConfigFile")
    product = b.entity(EX[f"{tag}/dl5"], [(PROV["label"], f"spectrum {tag}"), (PROVHUB["dataLevel"], "DL5")])
    b.relation("wasGeneratedBy", product, act, None)
    return product.uri


def pair(**changes):
    """A document with the chains ``a`` (BASE) and ``b`` (BASE with ``changes``)."""
    b = DocBuilder()
    a_id = analysis(b, "a")
    b_id = analysis(b, "b", **changes)
    return b.build(), a_id, b_id


def fan_out(n_dl3: int, b: DocBuilder | None = None, production: str = "prod5-v0.1"):
    """One IRF used by ``n_dl3`` DL3 datasets; every DL3 dataset goes into a DL4 dataset (a
    reduction), every ten DL4 datasets into one DL5 product (an analysis). Returns the builder
    and the IRF's IRI."""
    b = b or DocBuilder()
    irf = b.entity(EX["fan/irf"], [(PROV["type"], EX["aeff"]), (VOPROV["version"], production)])
    for i in range(n_dl3):
        dl3 = b.entity(EX[f"fan/dl3/{i}"], [(PROVHUB["dataLevel"], "DL3"), (PROVHUB["obsId"], 1000 + i)])
        b.relation("wasDerivedFrom", dl3, irf)
        red = b.activity(EX[f"fan/reduce/{i}"], [(PROV["label"], f"reduction {i}")])
        b.relation("used", red, dl3, None)
        dl4 = b.entity(EX[f"fan/dl4/{i}"], [(PROVHUB["dataLevel"], "DL4")])
        b.relation("wasGeneratedBy", dl4, red, None)
        ana = EX[f"fan/analysis/{i // 10}"]
        b.activity(ana, [(PROV["label"], f"analysis {i // 10}")])
        b.relation("used", ana, dl4, None)
        dl5 = b.entity(EX[f"fan/dl5/{i // 10}"], [(PROVHUB["dataLevel"], "DL5")])
        b.relation("wasGeneratedBy", dl5, ana, None)
    return b, irf.uri
