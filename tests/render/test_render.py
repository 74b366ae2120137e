"""provhub.provdm.render: PROV conventions, IVOA folding, escaping, determinism, collapsing, speed."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
from prov.model import ProvDocument

from provhub.provdm.errors import InvalidParameter
from provhub.provdm.facts import data_level, noun, plural, read_facts
from provhub.provdm.render import SVG_CSP, render, to_dot
from tests.audit.chains import EX, clean_chain, iri, new_doc, wide_chain

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_text(doc, **kw) -> str:
    out = render(doc, "svg", **kw).decode("utf-8")
    ET.fromstring(out.split("?>", 1)[1].split("]>", 1)[-1] if "<!DOCTYPE" in out else out)
    return out


def reversed_copy(doc: ProvDocument) -> ProvDocument:
    copy = new_doc()
    for record in reversed(doc.get_records()):
        copy.add_record(record)
    return copy


def test_same_document_gives_byte_identical_svg_whatever_the_record_order():
    doc = clean_chain()
    first = render(doc, "svg")
    assert render(clean_chain(), "svg") == first
    assert render(reversed_copy(doc), "svg") == first


def test_prov_shapes_colours_and_labels():
    svg = html.unescape(svg_text(clean_chain()))  # Graphviz writes "-" as &#45;
    assert 'fill="#fffc87"' in svg.lower() and "<ellipse" in svg  # entities: yellow ellipses
    assert 'fill="#9fb1fc"' in svg.lower()  # activities: blue boxes
    assert 'fill="#fed37f"' in svg.lower()  # agents: orange houses
    for text in (
        "Crab flux points",
        "DL5 dataset",
        "DL3 event list · OBS_ID 23523",
        "IRF · v3.1",
        "software agent · v1.2",
        "wasGeneratedBy",
        "used (aeff)",
        "wasAssociatedWith (Operator)",
        "wasAttributedTo (Author)",
        "wasDerivedFrom",
        "2024-03-01 10:00 – 11:00",
    ):
        assert text in svg, text


def test_parameters_and_descriptions_are_folded_into_the_activity_label():
    dot = to_dot(clean_chain())
    analysis = next(line for line in dot.splitlines() if "ex:analysis" in line)
    assert "e_min = 1 TeV" in analysis
    assert "gammapy.estimators.FluxPoints 1.2 (Analysis)" in analysis
    assert iri("emin") not in dot and iri("desc") not in dot  # no node of their own
    cfg = next(line for line in dot.splitlines() if "config.yaml" in line)
    assert "shape=note" in cfg  # configuration files are small notes
    assert "wasConfiguredBy" in dot


def test_layout_direction_and_formats():
    doc = clean_chain(1)
    for direction in ("BT", "TB", "LR", "RL", "lr"):
        assert f"rankdir={direction.upper()}" in render(doc, "dot", direction=direction).decode()
    assert render(doc, "png").startswith(b"\x89PNG")
    assert render(doc, "pdf").startswith(b"%PDF")
    assert render(doc, "dot").startswith(b"digraph lineage {")
    with pytest.raises(InvalidParameter) as exc:
        render(doc, "svg", direction="sideways")
    assert exc.value.where == "direction"
    with pytest.raises(InvalidParameter) as exc:
        render(doc, "gif")
    assert exc.value.where == "format"


def test_labels_and_links_are_escaped_and_only_safe_links_survive():
    doc = new_doc()
    doc.entity("ex:evil", other_attributes={"prov:label": '<script>alert("x")</script> & \\N'})
    doc.entity("ex:ok", other_attributes={"prov:label": "fine"})
    doc.activity("ex:act", other_attributes={"prov:label": "<b>bold</b>"})
    doc.used("ex:act", "ex:evil", other_attributes={"prov:role": "<img src=x onerror=1>"})
    doc.wasDerivedFrom("ex:ok", "ex:evil")
    links = {
        iri("evil"): "javascript:alert(1)",
        iri("ok"): "/records/ok?a=1&b=2",
        iri("act"): "&#106;avascript:alert(1)",
    }
    svg = svg_text(doc, link=links.get)
    assert "<script" not in svg and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    assert "<img" not in svg and "<b>bold" not in svg
    assert "\\N" in svg  # backslash escapes of Graphviz stay text
    hrefs = re.findall(r'href="([^"]*)"', svg)
    assert hrefs == ["/records/ok?a=1&amp;b=2"]  # javascript: dropped, namespace URIs never links
    assert EX not in "".join(hrefs)


def test_no_links_without_a_link_function():
    assert "href" not in svg_text(clean_chain())


def test_csp_forbids_scripts():
    assert "default-src 'none'" in SVG_CSP and "script" not in SVG_CSP


def test_undeclared_records_are_drawn_with_the_kind_their_relation_implies():
    doc = new_doc()
    doc.used("ex:a", "ex:e")
    doc.wasAssociatedWith("ex:a", "ex:ag")
    dot = to_dot(doc)
    by_tip = dict(re.findall(r'shape=(\w+)[^\n]*tooltip="([^"]+)"', dot))
    assert {v: k for k, v in by_tip.items()} == {iri("a"): "box", iri("e"): "ellipse", iri("ag"): "house"}


def test_collapse_above_the_cap_gives_summary_nodes_with_counts():
    doc = wide_chain(200)
    svg = html.unescape(svg_text(doc, node_cap=150, highlight={iri("dl5")}))
    assert "200 DL3 event lists" in svg
    assert "200 DL0 datasets" in svg and "200 activities" in svg
    assert "used ×200" in svg
    gids = re.findall(r'href="#expand=(g[0-9a-f]{12})"', svg)
    assert len(gids) == 3 and len(set(gids)) == 3
    assert "light curve" in svg  # the highlighted product stays
    # the group ids are stable: same input, same ids; expanding one draws its members
    assert re.findall(r'href="#expand=(g[0-9a-f]{12})"', svg_text(doc, node_cap=150)) == gids
    dot = to_dot(doc, node_cap=150, expand=set(gids))
    assert "DL3 event lists" not in dot and dot.count("DL3 event list · OBS_ID") == 200


def test_below_the_cap_nothing_is_collapsed():
    dot = to_dot(wide_chain(20), node_cap=150)
    assert "expand=" not in dot and dot.count("DL3 event list · OBS_ID") == 20


def test_a_500_node_graph_renders_within_two_seconds():
    doc = wide_chain(166)
    assert len(read_facts(doc).elements) == 500
    for cap in (150, 1000):  # collapsed, and drawn in full
        start = time.perf_counter()
        svg = render(doc, "svg", node_cap=cap)
        assert time.perf_counter() - start <= 2.0
        assert svg.startswith(b"<?xml")


@pytest.mark.parametrize(
    "attrs, level",
    [
        ({"ex:data_level": "DL5"}, "DL5"),
        ({"ex:CTA_PRODUCT_DATA_LEVELS": "DL1_IMAGES,DL1_PARAMETERS"}, "DL1"),
        ({"ex:HDUCLAS1": "EVENTS"}, "DL3"),
        ({"prov:label": "hess_dl3_dr1_obs_id_023523.fits.gz"}, "DL3"),
        ({"ex:SED_TYPE": "likelihood"}, "DL5"),
        ({"ex:EXTNAME": "FLUXPOINTS"}, "DL5"),
        ({"prov:label": "model.yaml"}, None),
    ],
)
def test_data_level(attrs, level):
    doc = new_doc()
    doc.entity("ex:x", other_attributes=attrs)
    assert data_level(read_facts(doc).elements[iri("x")]) == level


def test_nouns_and_plurals():
    doc = clean_chain(1)
    els = read_facts(doc).elements
    assert noun(els[iri("irf")]) == "IRF"
    assert noun(els[iri("dl3_23523")]) == "DL3 event list"
    assert noun(els[iri("gammapy")]) == "software agent"
    assert noun(els[iri("cfg")]) == "configuration file"
    doc = new_doc()
    doc.activity("ex:a", other_attributes={"prov:type": "ex:Dl3Production"})
    doc.entity("ex:b", other_attributes={"prov:type": "ex:InstrumentConfiguration"})
    doc.entity("ex:c", other_attributes=[("prov:type", "ex:FitsHdu"), ("prov:type", "voprov:DatasetEntity")])
    doc.entity("ex:d", other_attributes={"prov:type": "ex:Dl3Observation"})
    assert [noun(e) for _, e in sorted(read_facts(doc).elements.items())] == [
        "DL3 production",
        "instrument configuration",
        "FITS HDU",
        "DL3 observation",
    ]
    assert [plural(w) for w in ("DL3 event list", "activity", "IRF", "entity", "DL0 dataset")] == [
        "DL3 event lists",
        "activities",
        "IRFs",
        "entities",
        "DL0 datasets",
    ]


def test_provdm_imports_no_flask_neo4j_or_click():
    code = (
        "import sys, provhub.provdm.render, provhub.provdm.audit; "
        "print(sorted(m for m in ('flask', 'neo4j', 'click') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_render_benchmark_rows():
    from benchmarks.render_bench import run

    rows = run(sizes=(60,))
    assert [set(r) for r in rows] == [{"figure", "value", "unit", "baseline", "ratio", "goal", "holds"}] * 2
    assert all(r["holds"] and r["unit"] == "s" and r["baseline"] > 0 for r in rows)


@pytest.mark.parametrize(
    "url, kept",
    [
        ("/records/x", True),
        ("records/x?a=1", True),
        ("#expand=g0123456789ab", True),
        ("https://archive.example/x", True),
        ("http://a/b", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html,x", False),
        ("&#106;avascript:alert(1)", False),
        ("file:///etc/passwd", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_link(url, kept):
    from provhub.provdm.render import safe_link

    assert safe_link(url) == (url if kept else None)


def test_highlight_by_iri_or_prefixed_name():
    for wanted in ({iri("dl5")}, {"ex:dl5"}):
        line = next(
            x
            for x in to_dot(clean_chain(1), highlight=wanted).splitlines()
            if 'tooltip="https://example.org/cta/dl5"' in x
        )
        assert "penwidth=3" in line
