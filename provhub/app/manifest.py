"""Reproduce: what is needed to make a product again (``provhub manifest ID``, ``GET /manifest``;
docs/impact.md).

A manifest, from the product's provenance profile (:mod:`provhub.app.profile`) as the viewer sees it:

- ``inputs``: every input file (id, name, location, checksum) that no activity of the lineage made;
- ``software`` with versions, and ``requirements``: a pip requirements list of the software that
  is a Python package (:data:`PYTHON_PACKAGES`);
- ``parameters`` (name, value, unit) and ``config_files`` (name, location, digest); when the
  product came from a gammapy analysis, ``gammapy_config``: the parameters as the nested
  configuration gammapy's ``AnalysisConfig`` reads (``config.yaml``);
- ``observations``: the observation ids.
"""

from __future__ import annotations

import json

import yaml

from .access import OPERATOR, Viewer
from .profile import Profile, profile
from .stores.base import Store

#: software names (lower case) that are Python packages on PyPI, with their distribution names
PYTHON_PACKAGES = {
    "gammapy": "gammapy",
    "ctapipe": "ctapipe",
    "pyirf": "pyirf",
    "lstchain": "lstchain",
    "cta-lstchain": "lstchain",
    "astropy": "astropy",
    "numpy": "numpy",
    "scipy": "scipy",
    "regions": "regions",
    "iminuit": "iminuit",
    "pyvo": "pyvo",
    "provhub": "provhub",
}

FORMATS = {"yaml": "application/yaml", "json": "application/json"}


def manifest(store: Store, ident: str, *, settings, viewer: Viewer = OPERATOR) -> dict:
    prof = profile(store, ident, settings=settings, viewer=viewer)
    software = [
        {"name": name, "version": v or None}
        for name, versions in sorted(prof.software.items())
        for v in sorted(versions)
    ]
    out: dict = {
        "product": {"id": prof.id, "name": prof.name},
        "observations": sorted(
            (int(o) if o.isdigit() else o for o in prof.observations),
            key=lambda o: (isinstance(o, str), str(o).zfill(20)),
        ),
        "inputs": prof.inputs,
        "software": software,
        "requirements": requirements(prof),
        "parameters": [p.to_dict() for _n, p in sorted(prof.parameters.items())],
        "config_files": [
            {"name": c["name"], "location": c["location"], "checksum": c["digest"], "id": c["id"]}
            for c in sorted(prof.config_files.values(), key=lambda c: (c["name"], c["id"]))
        ],
    }
    if _from_gammapy(prof):
        out["gammapy_config"] = gammapy_config(prof)
    return out


def requirements(prof: Profile) -> list[str]:
    """``name==version`` (or the bare name when the version is not known) of the Python packages."""
    out = []
    for name, versions in sorted(prof.software.items()):
        dist = PYTHON_PACKAGES.get(name.strip().lower())
        if dist is None:
            continue
        known = sorted(v for v in versions if v)
        out += [f"{dist}=={v}" for v in known] or [dist]
    return out


def _from_gammapy(prof: Profile) -> bool:
    if any(name.strip().lower() == "gammapy" for name in prof.software):
        return True
    return any("gammapy" in (el.first("name") or "").lower() for el in prof.elements.values() if el.kind == "activity")


def gammapy_config(prof: Profile) -> dict:
    """The parameters as a nested mapping (``datasets.geom.axes.energy.min`` -> ``datasets:
    geom: axes: energy: min``), each value as written in the config: numbers and booleans as
    such, lists from their JSON text, quantities as ``"0.2 TeV"``."""
    tree: dict = {}
    for name, p in sorted(prof.parameters.items()):
        here = tree
        *heads, last = name.split(".")
        for head in heads:
            nxt = here.setdefault(head, {})
            if not isinstance(nxt, dict):
                break
            here = nxt
        else:
            here[last] = _config_value(p.raw)
    return tree


def _config_value(raw):
    if isinstance(raw, str) and raw.startswith("["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def write(data: dict, fmt: str = "yaml") -> str:
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
