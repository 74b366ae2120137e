"""Folding the lineage graph by night, telescope or data level (issue 18), each store backend: one
node per group, expanded on request, an expanded night or telescope showing what it holds folded
in turn (an expanded telescope its own nights)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from provhub.app import services

EX = "http://example.org/cta#"
#: runs 1 and 2 in the night of 2004-12-04 (run 2 after midnight UTC), runs 3 and 4 in that of
#: 2004-12-06; runs 1-3 by HESS, run 4 by MAGIC; each an event list and an effective area
RUNS = {1: ("2004-12-04", "22:00:00", "HESS"), 2: ("2004-12-05", "01:30:00", "HESS"),
        3: ("2004-12-06", "23:00:00", "HESS"), 4: ("2004-12-06", "23:40:00", "MAGIC")}  # fmt: skip


def fan_in() -> str:
    lines = [
        "document",
        "  prefix ex <http://example.org/cta#>",
        "  prefix fits <https://provhub.org/ns/fits#>",
        '  entity(ex:dl5, [prov:label="spectrum", ex:dataLevel="DL5"])',
        '  activity(ex:fit, [prov:label="fit"])',
        "  wasGeneratedBy(ex:dl5, ex:fit, -)",
    ]
    for run, (day, clock, telescope) in RUNS.items():
        lines += [
            f'  entity(ex:ev{run}, [prov:label="events {run}", ex:obs_id={run}, fits:HDUCLAS1="EVENTS", '
            f'fits:DATE-OBS="{day}", fits:TIME-OBS="{clock}", fits:TELESCOP="{telescope}"])',
            f'  entity(ex:aeff{run}, [prov:label="aeff {run}", ex:obs_id={run}, fits:HDUCLAS1="RESPONSE", '
            'fits:HDUCLAS2="EFF_AREA"])',
            f"  used(ex:fit, ex:ev{run}, -)",
            f"  used(ex:fit, ex:aeff{run}, -)",
        ]
    return "\n".join(lines + ["endDocument"])


@pytest.fixture
def client(client, store, settings):
    services.ingest(store, fan_in(), "provn", settings=settings)
    return client


def graph(client, query: str) -> str:
    r = client.get("/records/" + quote(EX + "dl5", safe="") + "?depth=ALL&" + query)
    assert r.status_code == 200, r.get_data(as_text=True)[:1000]
    text = r.get_data(as_text=True)
    return text[text.index("<svg") : text.index("</svg>")]


def groups(svg: str) -> dict[str, str]:
    """{group id: its tooltip} of the folded nodes drawn."""
    out = {}
    for gid, body in re.findall(r'<g id="group-(g[0-9a-f]{12})"(.*?)</g>\s*</g>', svg, re.S):
        out[gid] = html.unescape(re.search(r"<title>([^<]*)</title>", body).group(1))
    return out


def named(found: dict[str, str]) -> dict[str, str]:
    return {tip.split(":", 1)[0]: gid for gid, tip in found.items()}


def test_fold_by_night_then_expand_one_night_into_its_runs(client):
    nights = named(groups(graph(client, "fold=night")))
    assert set(nights) == {"night of 2004-12-04", "night of 2004-12-06"}  # run 2 after midnight stays
    inside = named(groups(graph(client, f"fold=night&expand={nights['night of 2004-12-04']}")))
    assert set(inside) == {"night of 2004-12-06", "OBS_ID 1", "OBS_ID 2"}


def test_fold_by_telescope_then_nights(client):
    telescopes = named(groups(graph(client, "fold=telescope")))
    assert set(telescopes) == {"HESS", "OBS_ID 4"}  # MAGIC's one observation is drawn as that run
    assert "3 observations" in graph(client, "fold=telescope")
    inside = named(groups(graph(client, f"fold=telescope&expand={telescopes['HESS']}")))
    # an expanded telescope shows its nights: MAGIC's run 4 shares the night of HESS's run 3 but
    # not its group, so each is drawn as its run
    assert set(inside) == {"night of 2004-12-04 (HESS)", "OBS_ID 3", "OBS_ID 4"}
    night = inside["night of 2004-12-04 (HESS)"]
    assert night not in named(groups(graph(client, "fold=night"))).values()  # not the night of every telescope
    both = named(groups(graph(client, f"fold=telescope&expand={telescopes['HESS']}&expand={night}")))
    assert set(both) == {f"OBS_ID {r}" for r in RUNS}


def test_fold_by_data_level(client):
    levels = named(groups(graph(client, "fold=level")))
    assert set(levels) == {"DL3", "IRF"}
    assert "4 observations" in graph(client, "fold=level")
    svg = graph(client, f"fold=level&expand={levels['DL3']}")
    assert set(named(groups(svg))) == {"IRF"}
    assert all(f"events {run}" in svg for run in RUNS)  # the event lists, one node each


def test_fold_by_run_is_the_default_and_nothing_folds_nothing(client):
    assert set(named(groups(graph(client, "")))) == {f"OBS_ID {r}" for r in RUNS}
    assert groups(graph(client, "fold=none")) == {}
    r = client.get("/records/" + quote(EX + "dl5", safe="") + "?fold=moon")
    assert r.status_code == 400 and "fold must be one of" in r.get_data(as_text=True)
    page = client.get("/records/" + quote(EX + "dl5", safe="") + "?fold=night").get_data(as_text=True)
    assert '<option value="night" selected>nights</option>' in page
