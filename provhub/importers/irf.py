"""IRF summaries: the field of view and the PSF of a GADF IRF HDU, read from its table data.

The FITS importer reads headers only, except here: for an IRF HDU of one of the classes below
(``HDUCLAS1 = RESPONSE``), :func:`summarise` reads the first row of that HDU's table (GADF IRFs
are one row; at most :data:`MAX_TABLE_BYTES`; never the event list or another HDU's data) and
decodes only the cells it needs, with the layout its header gives (``TFORMn``, ``TDIMn``,
``TUNITn``). The FITS importer calls it after reading every header, in file order. The values become attributes of the HDU entity (:mod:`provhub.importers.keywords`,
``map_irf``), all angles in degrees, energies in TeV; ``GET /obscore`` gives them as ``s_fov``,
``s_region`` and ``s_resolution``.

- **Field of view** (``EFF_AREA``, and ``BKG`` when it has an offset axis, ``BKG_2D``): the
  largest offset of the table's offset axis (``THETA_HI``, GADF: degrees from the pointing) is the
  radius of the field the IRFs cover; :data:`FOV` (``provhub:fovDiameterDeg``) is twice that.
  H.E.S.S. DL3 DR1: 0 to 2.5 deg, so 5 deg. ``BKG_3D`` (a DETX/DETY grid) has no offset axis
  and is not summarised.
- **PSF** (``RPSF``/``PSF`` classes ``PSF_TABLE`` and ``PSF_3GAUSS``): the radius that contains
  :data:`CONTAINMENT` (68 %) of the PSF at :data:`PSF_ENERGY_TEV` (1 TeV) and at the tabulated
  offset nearest :data:`PSF_OFFSET_DEG` (0.5 deg): :data:`PSF_R68` (``provhub:psfR68Deg``), with
  the energy and offset it holds at (:data:`PSF_ENERGY`, :data:`PSF_OFFSET`). 0.5 deg is where
  the target of a wobble observation usually is (68 of DR1's 105 runs; DR1's and CTA prod5's
  tables have a node there), so the value is the PSF at a typical target position, the same
  reference for every run (the IRF HDU does not know where its run's target was); 1 TeV is
  inside the safe energy range of every DR1 run. The radius is computed at the two energy bins
  whose (logarithmic) centres bracket 1 TeV and interpolated linearly in log E (1 TeV is a bin
  edge in DR1, so no single bin is "the" 1 TeV one). For ``PSF_TABLE`` the containment is the
  cumulative sum of ``RPSF`` times each radial bin's solid angle, divided by the table's total
  (the table's integral, not 1: a table cut at its largest radius is still a distribution), and
  the radius is interpolated linearly between bin edges; for ``PSF_3GAUSS`` it is solved from the
  sum of three Gaussians (GADF psf_3gauss: ``SIGMA_1..3``, ``AMPL_2``, ``AMPL_3``).

A table that is too large, lacks a column, has an axis that does not match its data, values that
are not finite or positive, or a unit that is not an angle (or energy) gives no attribute and a
reason (the W15 warning), never an exception.
"""

from __future__ import annotations

import math
import re

import numpy as np
from astropy import units as u

#: attribute local names (``provhub:`` namespace) of the summary, with their units in the name
FOV = "fovDiameterDeg"
PSF_R68 = "psfR68Deg"
PSF_ENERGY = "psfEnergyTeV"
PSF_OFFSET = "psfOffsetDeg"
ATTRIBUTES = (FOV, PSF_R68, PSF_ENERGY, PSF_OFFSET)

#: most bytes of an IRF table's row read (NAXIS1: GADF IRFs are one row); DR1's PSF row is 112 kB
MAX_TABLE_BYTES = 16 * 1024 * 1024
PSF_ENERGY_TEV = 1.0
PSF_OFFSET_DEG = 0.5
CONTAINMENT = 0.68

_FOV_CLASSES = {"EFF_AREA", "BKG"}
_PSF_CLASSES = {"RPSF", "PSF"}


class Refused(ValueError):
    """Why a table is not summarised."""


def kind(hduclass: list[str]) -> str | None:
    """``fov``, ``psf`` or None for an HDU class chain (``GADF/RESPONSE/EFF_AREA/...``)."""
    chain = [c.upper() for c in hduclass]
    if len(chain) < 3 or chain[1] != "RESPONSE":
        return None
    if chain[2] in _FOV_CLASSES:
        return "fov"
    if chain[2] in _PSF_CLASSES:
        return "psf"
    return None


def summarise(hdu, hduclass: list[str]) -> tuple[dict[str, float], str | None]:
    """({attribute: value}, None) for an IRF HDU (an astropy ``BinTableHDU``), or ({}, reason)
    when its table cannot be summarised; ({}, None) when the HDU is not one this reads."""
    what = kind(hduclass)
    if what is None:
        return {}, None
    header = hdu.header
    table = _Table(hdu)
    if what == "fov" and "THETA_HI" not in table.names and ("DETX_LO" in table.names or "BKG_3D" in hduclass[3:]):
        return {}, None  # BKG_3D: a DETX/DETY grid, no offset axis
    try:
        size = int(header.get("NAXIS1", 0))
        if header.get("XTENSION") != "BINTABLE":
            raise Refused("not a binary table")
        if size > MAX_TABLE_BYTES:
            raise Refused(f"the table's row is {size} bytes, more than the {MAX_TABLE_BYTES} read")
        if int(header.get("NAXIS2", 0)) < 1:
            raise Refused("the table has no row")
        if what == "fov":
            return {FOV: _fov(table)}, None
        return _psf(table, hduclass), None
    except Refused as exc:
        return {}, str(exc)
    except Exception as exc:  # noqa: BLE001 - untrusted input: any failure is a reason, never a crash
        return {}, f"cannot read the table: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


#: numpy types of the binary-table TFORM letters read as numbers
_NUMERIC = {"B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8"}
#: bytes of one element of each TFORM letter (X: bits, counted apart)
_WIDTH = {"L": 1, "X": 1, "B": 1, "I": 2, "J": 4, "K": 8, "A": 1, "E": 4, "D": 8, "C": 8, "M": 16, "P": 8, "Q": 16}
_TFORM = re.compile(r"^\s*(\d*)([A-Z])")


class _Table:
    """The first row of an IRF table, column by column. The layout (``TTYPEn``, ``TFORMn``,
    ``TDIMn``, ``TUNITn``, ``TSCALn``/``TZEROn``) comes from the header; only the first row's
    ``NAXIS1`` bytes are read from the file, and only the cells asked for are decoded (numpy,
    big-endian), each once. astropy's table machinery (which converts every column) is not used."""

    def __init__(self, hdu):
        self.hdu = hdu
        header = hdu.header
        count = header.get("TFIELDS", 0)
        self.names: dict[str, int] = {}
        for n in range(1, (count if isinstance(count, int) else 0) + 1):
            self.names.setdefault(str(header.get(f"TTYPE{n}", "")).strip().upper(), n)
        self.layout: dict[int, tuple[int, str, int]] = {}
        self._row: bytes | None = None
        self._cells: dict[tuple, np.ndarray] = {}

    def _layout(self) -> dict[int, tuple[int, str, int]]:
        """{column number: (byte offset in the row, TFORM letter, repeat)}; checks NAXIS1."""
        header, layout, offset = self.hdu.header, {}, 0
        for n in range(1, int(header.get("TFIELDS", 0)) + 1):
            m = _TFORM.match(str(header.get(f"TFORM{n}", "")))
            if not m or m.group(2) not in _WIDTH:
                raise Refused(f"column {n} has the TFORM {header.get(f'TFORM{n}')!r}")
            repeat = int(m.group(1) or 1)
            layout[n] = (offset, m.group(2), repeat)
            offset += -(-repeat // 8) if m.group(2) == "X" else repeat * _WIDTH[m.group(2)]
        if offset != int(header.get("NAXIS1", 0)):
            raise Refused(f"the columns take {offset} bytes, NAXIS1 says {header.get('NAXIS1')}")
        return layout

    def _first_row(self) -> bytes:
        if self._row is None:
            width = int(self.hdu.header.get("NAXIS1", 0))
            self.layout = self._layout()
            file = self.hdu._file  # astropy's file object; the HDU's data start at _data_offset
            file.seek(self.hdu._data_offset)
            self._row = file.read(width)
            if len(self._row) < width:
                raise Refused(f"the table's first row is cut ({len(self._row)} of {width} bytes)")
        return self._row

    def column(self, name: str, unit: u.UnitBase | None = None) -> np.ndarray:
        """The first row's cell of column ``name`` as float64 (in ``unit`` when given)."""
        key = (name, unit)
        if key not in self._cells:
            self._cells[key] = self._read(name, unit)
        return self._cells[key]

    def _read(self, name: str, unit: u.UnitBase | None) -> np.ndarray:
        if name not in self.names:
            raise Refused(f"no {name} column")
        n, header = self.names[name], self.hdu.header
        row = self._first_row()
        offset, letter, repeat = self.layout[n]
        if letter not in _NUMERIC:
            raise Refused(f"{name} is not a numeric column (TFORM {header.get(f'TFORM{n}')!r})")
        value = np.frombuffer(row, dtype=_NUMERIC[letter], count=repeat, offset=offset).astype(float)
        value = value * float(header.get(f"TSCAL{n}", 1)) + float(header.get(f"TZERO{n}", 0))
        dim = header.get(f"TDIM{n}")
        if dim:
            shape = tuple(int(d) for d in reversed(str(dim).strip().strip("()").split(",")))
            if math.prod(shape) != repeat:
                raise Refused(f"{name}: TDIM {dim} does not hold {repeat} values")
            value = value.reshape(shape)
        if unit is not None:
            given = str(header.get(f"TUNIT{n}", "")).strip()
            if not given:
                raise Refused(f"{name} has no unit")
            try:
                value = value * u.Unit(given, format="fits", parse_strict="raise").to(unit)
            except (ValueError, u.UnitsError):
                raise Refused(f"{name} is in {given!r}, not an {unit.physical_type}") from None
        if value.size == 0 or not np.all(np.isfinite(value)):
            raise Refused(f"{name} is empty or not finite")
        return value


def _fov(hdu: _Table) -> float:
    theta = hdu.column("THETA_HI", u.deg)
    largest = float(theta.max())
    if not 0 < largest <= 180:
        raise Refused(f"the largest offset (THETA_HI) is {largest} deg")
    return 2 * largest


def _offset_index(hdu: _Table) -> tuple[int, float]:
    """The offset node nearest PSF_OFFSET_DEG (the smaller of two equally near), and its value."""
    lo, hi = hdu.column("THETA_LO", u.deg), hdu.column("THETA_HI", u.deg)
    if lo.shape != hi.shape or lo.ndim != 1:
        raise Refused("THETA_LO and THETA_HI differ in shape")
    centres = (lo + hi) / 2
    i = int(np.argmin(np.abs(centres - PSF_OFFSET_DEG) + 1e-9 * centres))
    return i, float(centres[i])


def _energy_bracket(hdu: _Table) -> tuple[int, int, float]:
    """(i, j, weight of j): the energy bins whose log centres bracket PSF_ENERGY_TEV."""
    lo, hi = hdu.column("ENERG_LO", u.TeV), hdu.column("ENERG_HI", u.TeV)
    if lo.shape != hi.shape or lo.ndim != 1 or np.any(lo <= 0) or np.any(hi <= lo):
        raise Refused("ENERG_LO/ENERG_HI are not increasing positive bins")
    log_centres = (np.log10(lo) + np.log10(hi)) / 2
    target = math.log10(PSF_ENERGY_TEV)
    if not log_centres[0] <= target <= log_centres[-1]:
        raise Refused(f"{PSF_ENERGY_TEV} TeV is outside the energy bins ({lo[0]:g}-{hi[-1]:g} TeV)")
    j = int(np.searchsorted(log_centres, target))
    if j == 0 or log_centres[j] == target:
        return j, j, 0.0
    i = j - 1
    return i, j, float((target - log_centres[i]) / (log_centres[j] - log_centres[i]))


def _psf(hdu: _Table, hduclass: list[str]) -> dict[str, float]:
    offset_index, offset = _offset_index(hdu)
    i, j, weight = _energy_bracket(hdu)
    fmt = (hduclass[4] if len(hduclass) > 4 else "").upper()
    if fmt == "PSF_TABLE":
        radius = _table_radius
    elif fmt == "PSF_3GAUSS":
        radius = _gauss_radius
    else:
        raise Refused(f"the PSF format {fmt or '(no HDUCLAS4)'} is not summarised (PSF_TABLE and PSF_3GAUSS are)")
    r_i, r_j = radius(hdu, i, offset_index), radius(hdu, j, offset_index)
    r68 = r_i + weight * (r_j - r_i)
    return {PSF_R68: float(r68), PSF_ENERGY: PSF_ENERGY_TEV, PSF_OFFSET: offset}


def _table_radius(hdu: _Table, energy: int, offset: int) -> float:
    rad_lo, rad_hi = hdu.column("RAD_LO", u.deg), hdu.column("RAD_HI", u.deg)
    n_energy, n_offset = hdu.column("ENERG_LO").size, hdu.column("THETA_LO").size
    rpsf = hdu.column("RPSF")  # numpy (RAD, THETA, ENERG): GADF's FITS order is (ENERG, THETA, RAD)
    if rpsf.shape != (rad_lo.size, n_offset, n_energy) or rad_lo.shape != rad_hi.shape:
        raise Refused(
            f"RPSF has the shape {rpsf.shape}, not (RAD, THETA, ENERG) = ({rad_lo.size}, {n_offset}, {n_energy})"
        )
    if np.any(rad_hi <= rad_lo) or np.any(rad_lo < 0):
        raise Refused("RAD_LO/RAD_HI are not increasing bins")
    density = rpsf[:, offset, energy]
    solid = 2 * np.pi * (np.cos(np.radians(rad_lo)) - np.cos(np.radians(rad_hi)))
    mass = np.cumsum(density * solid)
    if np.any(density < 0) or not mass[-1] > 0:
        raise Refused(f"RPSF is negative or zero at energy bin {energy}, offset {offset}")
    fraction = np.concatenate([[0.0], mass / mass[-1]])
    edges = np.concatenate([[rad_lo[0]], rad_hi])
    k = int(np.searchsorted(fraction, CONTAINMENT))  # first edge at or past 68 %
    f0, f1 = fraction[k - 1], fraction[k]
    return float(edges[k - 1] + (CONTAINMENT - f0) / (f1 - f0) * (edges[k] - edges[k - 1]))


def _gauss_radius(hdu: _Table, energy: int, offset: int) -> float:
    def cell(name: str, unit=None) -> float:
        value = hdu.column(name, unit)
        if value.ndim == 1:
            raise Refused(f"{name} is not a (THETA, ENERG) grid")
        return float(value[offset, energy])

    sigmas = [cell(f"SIGMA_{n}", u.deg) for n in (1, 2, 3)]
    weights = [1.0, cell("AMPL_2"), cell("AMPL_3")]
    if sigmas[0] <= 0 or any(w < 0 or (w > 0 and s <= 0) for w, s in zip(weights, sigmas, strict=True)):
        raise Refused(f"SIGMA_n or AMPL_n out of range at energy bin {energy}, offset {offset}")
    # a component of amplitude 0 (prod5 writes SIGMA_2 = AMPL_2 = 0 for one Gaussian) holds nothing
    sigmas, weights = [s for s, w in zip(sigmas, weights, strict=True) if w > 0], [w for w in weights if w > 0]
    # each Gaussian exp(-r^2 / 2 s^2) holds 2 pi s^2 A of the total; inside r, (1 - exp(-r^2 / 2 s^2)) of it
    parts = [w * s * s for w, s in zip(weights, sigmas, strict=True)]
    total = sum(parts)

    def inside(r: float) -> float:
        return sum(p * (1 - math.exp(-r * r / (2 * s * s))) for p, s in zip(parts, sigmas, strict=True)) / total

    low, high = 0.0, 10 * max(sigmas)
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if inside(mid) < CONTAINMENT else (low, mid)
    return (low + high) / 2


__all__ = [
    "ATTRIBUTES",
    "CONTAINMENT",
    "FOV",
    "MAX_TABLE_BYTES",
    "PSF_ENERGY",
    "PSF_ENERGY_TEV",
    "PSF_OFFSET",
    "PSF_OFFSET_DEG",
    "PSF_R68",
    "kind",
    "summarise",
]
