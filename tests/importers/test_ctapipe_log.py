"""ctapipe provenance logs: JSON arrays back to back, reference metadata, meeting the FITS import."""

from __future__ import annotations

import json

from provhub.importers import import_ctapipe_log, import_fits
from provhub.importers.ctapipe_log import read_chunks
from provhub.importers.base import Warnings
from provhub.provdm.codec import records_of
from provhub.provdm.merge import plan_merge

from .conftest import PROV_NS, PROVHUB_NS, VOPROV_NS, Records
from .test_fits import ACTIVITY_ID, PRODUCT_ID, write_ctapipe_file

ACT = "https://provhub.org/id/cta/activity/"
PROD = "https://provhub.org/id/cta/product/"


def activity(uuid, name, start, stop, inputs, outputs, config=None):
    return {
        "activity_name": name,
        "activity_uuid": uuid,
        "status": "completed",
        "start": {"time_utc": start},
        "stop": {"time_utc": stop},
        "system": {
            "ctapipe_version": "0.19.2",
            "executable": "/usr/bin/python3",
            "platform": {"system": "Linux", "release": "6.1", "machine": "x86_64"},
            "python": {
                "version_string": "3.11.7",
                "packages": [{"name": "astropy", "version": "6.0.0"}, {"name": "numpy", "version": "1.26.4"}],
            },
            "environment": {"USER": "jane"},
            "arguments": ["ctapipe-process", "-i", "run.simtel.gz"],
        },
        "input": inputs,
        "output": outputs,
        "config": config or {},
        "exit_code": 0,
        "duration_min": 34.8,
    }


def write_log(path, *runs, tail=""):
    path.write_text("".join(json.dumps(run, indent=2) for run in runs) + tail)
    return str(path)


PROCESS = activity(
    ACTIVITY_ID,
    "ctapipe-process",
    "2024-03-01T12:00:00.123",
    "2024-03-01T12:34:59.000",
    [{"url": "/data/run.simtel.gz", "role": "DL0/Event", "reference_meta": None}],
    [
        {
            "url": "/data/dl2.fits",
            "role": "DL2/Event",
            "reference_meta": {
                "CTA PRODUCT ID": PRODUCT_ID,
                "CTA ACTIVITY ID": ACTIVITY_ID,
                "CTA ACTIVITY NAME": "ctapipe-process",
                "CTA ACTIVITY START TIME": "2024-03-01 12:00:00.123",
                "CTA ACTIVITY SOFTWARE NAME": "ctapipe",
                "CTA ACTIVITY SOFTWARE VERSION": "0.19.2",
            },
        }
    ],
    config={"ProcessorTool": {"progress_bar": False, "DataWriter": {"write_dl2": True}}},
)
APPLY = activity(
    "0b1c2d3e-0000-4000-8000-aaaaaaaaaaaa",
    "ctapipe-apply-models",
    "2024-03-02T08:00:00.000",
    "2024-03-02T08:05:00.000",
    [
        {
            "url": "/data/dl2.fits",
            "role": "input",
            "reference_meta": {
                "product": {"id_": PRODUCT_ID},
                "activity": {"id_": ACTIVITY_ID, "start_time": "2024-03-01 12:00:00.123"},
            },
        }
    ],
    [{"url": "file:///data/dl2_models.fits", "role": "output", "reference_meta": None}],
)


def test_arrays_back_to_back_and_a_broken_tail_are_read(tmp_path):
    warn = Warnings()
    text = open(write_log(tmp_path / "a.provenance.log", [PROCESS], [APPLY], tail='\n[{"activity_name": ')).read()
    assert len(read_chunks(text, warn, "a.log")) == 2
    assert [w.code for w in warn.items] == ["W11"]
    assert read_chunks(json.dumps([PROCESS]) + "\n{oops}\n" + json.dumps([APPLY]), Warnings(), "b.log")[-1] is not None


def test_log_maps_activities_inputs_outputs_config_and_environment(tmp_path):
    result = import_ctapipe_log(write_log(tmp_path / "process.provenance.log", [PROCESS], [APPLY]))
    assert result.files[0].status == "ok"
    records = Records(result.document)
    process, apply = ACT + ACTIVITY_ID, ACT + APPLY["activity_uuid"]
    assert records.values(process, PROV_NS + "startTime") == ["2024-03-01T12:00:00.123000+00:00"]
    assert records.values(process, PROV_NS + "endTime") == ["2024-03-01T12:34:59+00:00"]
    assert records.related("used", src=process, dst="https://provhub.org/id/file/name/run.simtel.gz")
    assert records.related("wasGeneratedBy", src=PROD + PRODUCT_ID, dst=process)
    assert records.related("used", src=apply, dst=PROD + PRODUCT_ID)
    assert records.related("wasGeneratedBy", src="https://provhub.org/id/file/name/dl2_models.fits", dst=apply)
    assert PROD + PRODUCT_ID in records.closure("https://provhub.org/id/file/name/dl2_models.fits")
    assert "https://provhub.org/id/file/name/run.simtel.gz" in records.closure(
        "https://provhub.org/id/file/name/dl2_models.fits"
    )
    params = {
        records.values(r.dst, VOPROV_NS + "name")[0]: records.values(r.dst, VOPROV_NS + "value")[0]
        for r in records.related("wasInfluencedBy", src=process)
        if VOPROV_NS + "Parameter" in records.values(r.dst, PROV_NS + "type")
    }
    assert params == {"ProcessorTool.progress_bar": False, "ProcessorTool.DataWriter.write_dl2": True}
    env = process + "/environment"
    assert records.values(env, PROVHUB_NS + "packages") == ["astropy==6.0.0\nnumpy==1.26.4"]
    assert records.related("wasAssociatedWith", src=process, dst="https://provhub.org/id/agent/software/ctapipe/0.19.2")


def test_log_and_fits_header_of_the_same_product_meet_without_conflict(tmp_path):
    fits_doc = import_fits([write_ctapipe_file(tmp_path / "dl2.fits")]).document
    log_doc = import_ctapipe_log(write_log(tmp_path / "p.provenance.log", [PROCESS])).document
    fits_nodes, fits_rels = records_of(fits_doc)
    log_nodes, log_rels = records_of(log_doc)
    plan_merge(log_nodes, log_rels, {n.id: n for n in fits_nodes}, {r.id: r for r in fits_rels})
    shared = {n.id for n in fits_nodes} & {n.id for n in log_nodes}
    assert {PROD + PRODUCT_ID, ACT + ACTIVITY_ID} <= shared


def test_unreadable_or_empty_log_fails(tmp_path):
    (tmp_path / "empty.log").write_text("   ")
    result = import_ctapipe_log(tmp_path / "empty.log")
    assert result.failed and result.warnings[0].code == "W11"
    assert import_ctapipe_log(tmp_path / "missing.log").failed
