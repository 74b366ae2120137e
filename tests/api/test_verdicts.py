"""Validation in words, and one verdict (issue 17): ``provhub validate FILE --level L`` says what
``POST /documents?validation=L`` does, on each backend; schema findings name the record, the
attribute and what is expected there, in PROV-JSON's terms."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from provhub.app.cli import load_commands
from provhub.provdm import formats
from provhub.provdm.validate import LEVELS
from tests.conftest import DATA

SUFFIX = {".json": "json", ".provn": "provn", ".xml": "xml", ".provx": "xml"}
CASES = {
    "default1.json": (DATA / "prov" / "provtoolbox" / "default1.json").read_text(),
    "cwlprov.json": (DATA / "prov" / "cwlprov-runcrate" / "revsort-run-1" / "primary.cwlprov.json").read_text(),
    "absent.provn": "document\nprefix ex <http://example.org/>\nused(ex:u1; -, ex:e1, -)\nendDocument\n",
    "twice.provn": (
        "document\nprefix ex <http://example.org/>\nentity(ex:e1)\nactivity(ex:a1)\n"
        "wasGeneratedBy(ex:g1; ex:e1, ex:a1, 2023-04-25T21:51:13Z)\n"
        "wasGeneratedBy(ex:g1; ex:e1, ex:a1, 2012-12-03T21:08:16Z)\nendDocument\n"
    ),
    "dangling.json": json.dumps({"prefix": {"ex": "http://example.org/"}, "used": {"ex:u": {"prov:activity": "ex:a"}}}),
    "bad-value.json": json.dumps(
        {"prefix": {"ex": "http://example.org/"}, "entity": {"ex:e1": {"ex:v": {"$": 1, "type": "xsd:int"}}}}
    ),
    "two-times.provn": (
        "document\nprefix ex <http://example.org/>\nactivity(ex:y, 2020-01-01T00:00:00Z, -)\n"
        "activity(ex:y, 2021-01-01T00:00:00Z, -)\nendDocument\n"
    ),
}


def cli_verdict(tmp_path, name: str, level: str | None) -> tuple[bool, str]:
    path = tmp_path / name
    path.write_text(CASES[name])
    args = ["validate", str(path)] + (["--level", level] if level else [])
    res = CliRunner().invoke(load_commands(), args, catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    return res.exit_code == 0, res.output


@pytest.mark.parametrize("level", [*LEVELS, None])
@pytest.mark.parametrize("name", sorted(CASES))
def test_validate_and_post_give_one_verdict(client, tmp_path, name, level):
    fmt = SUFFIX["." + name.rsplit(".", 1)[1]]
    query = f"?validation={level}" if level else ""
    resp = client.post(f"/documents{query}", data=CASES[name], headers={"Content-Type": formats.MEDIA_TYPES[fmt]})
    assert resp.status_code in (200, 201, 400, 422), resp.get_json()
    valid, output = cli_verdict(tmp_path, name, level)
    assert valid == (resp.status_code in (200, 201)), (resp.get_json(), output)


def test_a_new_users_files_are_valid_at_the_default_level(tmp_path):
    """The issue's example: validate said INVALID where POST answered 201."""
    for name in ("default1.json", "cwlprov.json"):
        valid, output = cli_verdict(tmp_path, name, None)
        assert valid and "anyOf" not in output, output


def test_schema_findings_name_the_record_and_the_attribute(client):
    resp = client.post("/documents", data=CASES["bad-value.json"], headers={"Content-Type": "application/x-prov+json"})
    assert resp.status_code == 201
    warnings = [w for w in resp.get_json()["warnings"] if w.startswith("schema:")]
    assert warnings and all("anyOf" not in w for w in warnings), warnings
    assert any("entity ex:e1, attribute ex:v" in w and "is not a PROV-JSON attribute value" in w for w in warnings)
    # cwlprov's times have no time zone (xsd:dateTime allows it): no finding, in any syntax
    cwl = client.post("/documents", data=CASES["cwlprov.json"], headers={"Content-Type": "application/x-prov+json"})
    assert cwl.status_code == 201 and not [w for w in cwl.get_json()["warnings"] if w.startswith("schema:")]
