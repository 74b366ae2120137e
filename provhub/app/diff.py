"""Difference: "why do these two spectra differ?" (docs/impact.md).

:func:`diff` compares the provenance profiles (:mod:`provhub.app.profile`) of two products as the viewer
sees them: observations only in A or only in B; for an observation both used, the IRFs that
differ; software whose versions differ or that only one used; analysis parameters that differ
(by name, both values and units; ``0.2 TeV`` and ``200 GeV`` are the same value); configuration
files that differ (by digest); agents (people, organisations) only one names.
"""

from __future__ import annotations

from dataclasses import dataclass

from astropy import units as u

from .access import OPERATOR, Viewer
from .profile import Parameter, Profile, profile
from .stores.base import Store


@dataclass
class DiffReport:
    a: Profile
    b: Profile
    differences: dict

    @property
    def count(self) -> int:
        n = 0
        for section in self.differences.values():
            n += sum(len(v) for v in section.values())
        return n

    def to_dict(self) -> dict:
        return {
            "a": {"id": self.a.id, "name": self.a.name},
            "b": {"id": self.b.id, "name": self.b.name},
            "count": self.count,
            "differences": self.differences,
        }


def diff(store: Store, a: str, b: str, *, settings, viewer: Viewer = OPERATOR) -> DiffReport:
    pa = profile(store, a, settings=settings, viewer=viewer, where="A")
    pb = profile(store, b, settings=settings, viewer=viewer, where="B")
    return DiffReport(pa, pb, compare(pa, pb))


def compare(a: Profile, b: Profile) -> dict:
    return {
        "observations": _sets(set(a.observations), set(b.observations)),
        "irfs": _irfs(a, b),
        "software": _software(a, b),
        "parameters": _parameters(a, b),
        "config_files": _config(a, b),
        "agents": _sets(set(a.agents.values()), set(b.agents.values())),
    }


def _key(x: str):
    return (0, int(x), x) if x.isdigit() else (1, 0, x)


def _sets(a: set[str], b: set[str]) -> dict:
    return {"only_a": sorted(a - b, key=_key), "only_b": sorted(b - a, key=_key)}


def _irfs(a: Profile, b: Profile) -> dict:
    out = []
    for obs in sorted(set(a.irfs) & set(b.irfs) & (set(a.observations) & set(b.observations) | {""}), key=_key):
        ia, ib = a.irfs[obs], b.irfs[obs]
        if set(ia) != set(ib):
            out.append(
                {
                    "obs_id": obs or None,
                    "a": sorted(ia[i] + f" <{i}>" for i in set(ia) - set(ib)),
                    "b": sorted(ib[i] + f" <{i}>" for i in set(ib) - set(ia)),
                }
            )
    return {"differ": out}


def _software(a: Profile, b: Profile) -> dict:
    differ = []
    for name in sorted(set(a.software) & set(b.software)):
        if a.software[name] != b.software[name]:
            differ.append(
                {
                    "name": name,
                    "a": ", ".join(sorted(v or "(no version)" for v in a.software[name])),
                    "b": ", ".join(sorted(v or "(no version)" for v in b.software[name])),
                }
            )
    only = _sets(set(a.software), set(b.software))
    return {"differ": differ, **only}


def same_value(x: Parameter, y: Parameter) -> bool:
    if x.value == y.value and (x.unit or "") == (y.unit or ""):
        return True
    if x.unit and y.unit:
        try:
            qx, qy = float(x.value) * u.Unit(x.unit), float(y.value) * u.Unit(y.unit)
            return bool(abs((qx - qy).to_value(qx.unit)) <= 1e-12 * max(abs(qx.value), 1e-300))
        except (ValueError, TypeError, u.UnitsError):
            return False
    return False


def _parameters(a: Profile, b: Profile) -> dict:
    differ = []
    for name in sorted(set(a.parameters) & set(b.parameters)):
        pa, pb = a.parameters[name], b.parameters[name]
        if not same_value(pa, pb):
            differ.append({"name": name, "a": pa.to_dict(), "b": pb.to_dict()})
    return {
        "differ": differ,
        "only_a": [a.parameters[n].to_dict() for n in sorted(set(a.parameters) - set(b.parameters))],
        "only_b": [b.parameters[n].to_dict() for n in sorted(set(b.parameters) - set(a.parameters))],
    }


def _config(a: Profile, b: Profile) -> dict:
    da = {c["digest"] or c["id"]: c for c in a.config_files.values()}
    db = {c["digest"] or c["id"]: c for c in b.config_files.values()}
    differ, only_a, only_b = [], [], []
    na = {c["name"]: c for k, c in da.items() if k not in db}
    nb = {c["name"]: c for k, c in db.items() if k not in da}
    for name in sorted(set(na) & set(nb)):
        differ.append({"name": name, "a": na[name]["digest"], "b": nb[name]["digest"]})
    only_a = [f"{c['name']} ({c['digest']})" for n, c in sorted(na.items()) if n not in nb]
    only_b = [f"{c['name']} ({c['digest']})" for n, c in sorted(nb.items()) if n not in na]
    return {"differ": differ, "only_a": only_a, "only_b": only_b}
