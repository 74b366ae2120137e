"""provhub render: the lineage of a stored product as a picture."""

from __future__ import annotations

import html

from click.testing import CliRunner

from provhub.app.cli import load_commands
from tests.audit.chains import clean_chain, sqlite_store_with, wide_chain


def run(*args):
    return CliRunner().invoke(load_commands(), list(args), catch_exceptions=False)


def test_render_svg_png_dot(tmp_path):
    url = sqlite_store_with(tmp_path, clean_chain()).store_url
    out = tmp_path / "lineage.svg"
    r = run("render", "ex:dl5", "--store", url, "-o", str(out))
    assert r.exit_code == 0, r.output
    svg = html.unescape(out.read_text())
    for text in ("Crab flux points", "events 23523", "IRF effective area", "raw run 23524", "gammapy", "e_min = 1 TeV"):
        assert text in svg, text
    assert 'stroke="#c0392b"' in svg  # the product is highlighted
    png = tmp_path / "lineage.png"
    assert run("render", "ex:dl5", "--store", url, "-o", str(png)).exit_code == 0
    assert png.read_bytes().startswith(b"\x89PNG")  # format from the suffix
    dot = run("render", "ex:dl5", "--store", url, "--format", "dot", "--layout", "LR", "--depth", "1")
    assert dot.exit_code == 0 and "rankdir=LR" in dot.output
    assert "Crab flux points" in dot.output and "events 23523" not in dot.output  # DEPTH=1


def test_render_forth_and_node_cap(tmp_path):
    url = sqlite_store_with(tmp_path, wide_chain(60)).store_url
    r = run("render", "ex:raw00001", "--store", url, "--direction", "FORTH", "--format", "dot")
    assert r.exit_code == 0 and "light curve" in r.output
    capped = run("render", "ex:dl5", "--store", url, "--format", "dot", "--node-cap", "50")
    assert "60 DL3 event lists" in capped.output


def test_render_errors(tmp_path):
    url = sqlite_store_with(tmp_path, clean_chain(1)).store_url
    missing = run("render", "ex:nothing", "--store", url, "--format", "dot")
    assert missing.exit_code == 1 and "not-found" in missing.output
    bad = run("render", "ex:dl5", "--store", url, "--layout", "XY")
    assert bad.exit_code == 2
