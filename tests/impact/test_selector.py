"""The selector grammar (provhub/provdm/selector.py): terms, operators, release numbers, times, errors."""

from __future__ import annotations

import datetime as dt

import pytest

from provhub.provdm.errors import InvalidParameter
from provhub.provdm.facts import Element
from provhub.provdm.selector import parse, release_key

PROV = "http://www.w3.org/ns/prov#"
PH = "https://provhub.org/ns#"
VOPROV = "http://www.ivoa.net/documents/ProvenanceDM/index.html#"


def agent(name, version):
    return Element(
        "ex:a",
        "agent",
        "ex:a",
        [(PROV, "type", PROV + "SoftwareAgent"), (VOPROV, "name", name), (VOPROV, "version", version)],
    )


@pytest.mark.parametrize(
    "a,b",
    [
        ("0.19.2", "0.20"),
        ("0.9", "0.19"),
        ("0.20.dev1", "0.20rc1"),
        ("0.20rc1", "0.20"),
        ("0.20", "0.20.post1"),
        ("1.0", "1.0.1"),
    ],
)
def test_release_order(a, b):
    assert release_key(a) < release_key(b)
    assert release_key("v1.2.0") == release_key("1.2") == release_key("1.2+g77")


def test_software_and_version_range():
    sel = parse("software=ctapipe & version<0.20")
    assert sel.software and sel.search_text == "ctapipe"
    assert sel.matches(agent("ctapipe", "0.19.3"))
    assert sel.matches(agent("CTAPIPE", "0.20.0.dev4"))
    assert not sel.matches(agent("ctapipe", "0.20.0"))
    assert not sel.matches(agent("gammapy", "0.19"))
    # an entity with the name is not software
    assert not sel.matches(Element("ex:e", "entity", "ex:e", [(VOPROV, "name", "ctapipe"), (VOPROV, "version", "0.1")]))


def test_lists_numbers_and_times():
    cfg = Element(
        "ex:c",
        "entity",
        "ex:c",
        [(PROV, "type", PH + "InstrumentConfiguration"), (PH, "TELLIST", "1,3,4"), (PH, "N_TELS", 3)],
    )
    assert parse("TELLIST=3").matches(cfg) and not parse("TELLIST=2").matches(cfg)
    assert parse("type=InstrumentConfiguration & n_tels>=3").matches(cfg)
    assert not parse("type=InstrumentConfiguration & n_tels>3").matches(cfg)
    window = [
        (dt.datetime(2020, 1, 10, 20, tzinfo=dt.timezone.utc), dt.datetime(2020, 1, 10, 21, tzinfo=dt.timezone.utc))
    ]
    inside = parse("TELLIST=3 & time>=2020-01-01 & time<2020-02-01")
    assert inside.needs_times and inside.matches(cfg, window)
    assert not parse("TELLIST=3 & time>=2020-01-11").matches(cfg, window)
    assert not inside.matches(cfg, [])  # no time known: not in the window


@pytest.mark.parametrize(
    "text",
    [
        "",
        "version<0.20",
        "software<ctapipe",
        "software=x & version<<1",
        "foo",
        "time>=2020-01-01",
        "a=b & time>=someday",
    ],
)
def test_malformed_selectors_name_select(text):
    with pytest.raises(InvalidParameter) as exc:
        parse(text)
    assert exc.value.where == "SELECT"
