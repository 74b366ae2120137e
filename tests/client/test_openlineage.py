"""POST /api/v1/lineage on both stores, fed by the official OpenLineage client (openlineage-python)
through its own HTTP transport to a real provhub on loopback: events of a run in any order join
one activity, lineage runs from the output dataset back to the input through the run, FAIL marks
the activity failed, rights hold, and a bad event is refused naming its OpenLineage field."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    documentation_job,
    error_message_run,
    nominal_time_run,
    output_statistics_output_dataset,
    schema_dataset,
)
from openlineage.client.serde import Serde
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
    TokenProvider,
)

from provhub.app import create_app
from provhub.client import Client, ServiceError
from provhub.importers import ids
from tests.client.helpers import serve, writer_tokens
from tests.conftest import make_settings

PRODUCER = "https://github.com/provhub/tests/openlineage"
T0 = dt.datetime(2026, 12, 7, 10, 0, 0, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(minutes=7)


@pytest.fixture
def service(backend, request, tmp_path):
    """A real provhub with authentication on; writers of the groups hess and magic."""
    app = create_app(make_settings(backend, request, tmp_path, auth="on"))
    store = app.extensions["provhub.store"]
    tokens = writer_tokens(store, "hess", "magic")
    server, url = serve(app)
    yield url, store, tokens
    server.shutdown()
    store.close()


def emitter(url: str, token: str | None, endpoint: str = "api/v1/lineage") -> OpenLineageClient:
    """The OpenLineage client with its HTTP transport (gzip bodies, Bearer token), no retries."""
    config = HttpConfig(
        url=url,
        endpoint=endpoint,
        auth=ApiKeyTokenProvider({"api_key": token}) if token else TokenProvider({}),
        compression=HttpCompression.GZIP,
        retry={"total": 0},
    )
    return OpenLineageClient(transport=HttpTransport(config))


def event(state, run_id: str, when: dt.datetime, **more) -> RunEvent:
    job = Job(
        namespace="hess-pipelines",
        name="dl3-production",
        facets={"documentation": documentation_job.DocumentationJobFacet(description="DL2 to DL3")},
    )
    return RunEvent(
        eventType=state,
        eventTime=when.isoformat(),
        run=Run(runId=run_id, facets=more.pop("run_facets", {})),
        job=job,
        producer=PRODUCER,
        **more,
    )


def datasets(k: str = ""):
    schema = schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name="ENERGY")])
    inputs = [InputDataset(namespace="file", name=f"/data/run_023523{k}.dl2.h5", facets={"schema": schema})]
    stats = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=1234, size=56789)
    outputs = [
        OutputDataset(namespace="file", name=f"/data/run_023523{k}.dl3.fits", outputFacets={"outputStatistics": stats})
    ]
    return inputs, outputs


def iri(doc: dict, qname: str) -> str:
    prefix, _, local = qname.partition(":")
    known = {"prov": PROV, "xsd": "http://www.w3.org/2001/XMLSchema#", **doc.get("prefix", {})}
    return known.get(prefix, prefix + ":") + local


def by_iri(doc: dict, kind: str) -> dict:
    return {iri(doc, k): v for k, v in doc.get(kind, {}).items()}


def values(record: dict, doc: dict, name: str) -> list:
    out = []
    for key, value in record.items():
        if iri(doc, key) == name:
            for v in value if isinstance(value, list) else [value]:
                out.append(v["$"] if isinstance(v, dict) and "$" in v else v)
    return out


PROV = "http://www.w3.org/ns/prov#"
OL = "https://provhub.org/ns/openlineage#"
OLFACET = "https://provhub.org/ns/openlineage/facet#"
STATUS = "https://provhub.org/ns#status"


def test_run_events_in_any_order_join_one_activity(service):
    url, store, tokens = service
    ol = emitter(url, tokens["hess"])
    run_id = str(uuid.uuid4())
    inputs, outputs = datasets()
    nominal = nominal_time_run.NominalTimeRunFacet(nominalStartTime=T0.isoformat())
    # COMPLETE first, then RUNNING, then START: each is its own document
    ol.emit(event(RunState.COMPLETE, run_id, T1, inputs=inputs, outputs=outputs))
    ol.emit(event(RunState.RUNNING, run_id, T0 + dt.timedelta(minutes=3), inputs=inputs))
    ol.emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs, run_facets={"nominalTime": nominal}))
    docs, total = store.list_documents(0, 100)
    assert total == 3

    hess = Client(url, token=tokens["hess"], retry_for=2)
    out_id = ids.openlineage_dataset("file", "/data/run_023523.dl3.fits").uri
    in_id = ids.openlineage_dataset("file", "/data/run_023523.dl2.h5").uri
    run_iri = ids.openlineage_run(run_id).uri
    lineage = hess.provsap(out_id, direction="BACK", depth="ALL", model="W3C")
    activities, entities = by_iri(lineage, "activity"), by_iri(lineage, "entity")
    assert list(activities) == [run_iri]  # one activity for three events
    act = activities[run_iri]
    assert dt.datetime.fromisoformat(values(act, lineage, PROV + "startTime")[0].replace("Z", "+00:00")) == T0
    assert dt.datetime.fromisoformat(values(act, lineage, PROV + "endTime")[0].replace("Z", "+00:00")) == T1
    assert values(act, lineage, STATUS) == ["succeeded"]
    assert sorted(values(act, lineage, OL + "eventType")) == ["COMPLETE", "RUNNING", "START"]
    assert json.loads(values(act, lineage, OLFACET + "nominalTime")[0])["nominalStartTime"] == T0.isoformat()
    # the output traces back to the input through the run
    assert in_id in entities and out_id in entities
    used = [r for r in lineage.get("used", {}).values() if iri(lineage, r["prov:activity"]) == run_iri]
    assert {iri(lineage, r["prov:entity"]) for r in used} == {in_id}
    gen = [r for r in lineage.get("wasGeneratedBy", {}).values() if iri(lineage, r["prov:entity"]) == out_id]
    assert {iri(lineage, r["prov:activity"]) for r in gen} == {run_iri}
    schema = json.loads(values(entities[in_id], lineage, OLFACET + "schema")[0])
    assert [f["name"] for f in schema["fields"]] == ["ENERGY"] and schema["_schemaURL"].startswith(
        "https://openlineage.io/"
    )
    stats = [json.loads(v) for r in gen for v in values(r, lineage, OLFACET + "outputStatistics")]
    assert stats and stats[0]["rowCount"] == 1234
    # what depends on the input: the output, and the run to do again
    impact = hess.impact(in_id)
    assert [p["id"] for found in impact["products"].values() for p in found] == [out_id]
    assert [r["id"] for r in impact["rerun"]] == [run_iri]
    # the job is the run's ActivityDescription, the producer its software agent
    whole = hess.provsap(run_iri, direction="BACK", depth="1", model="W3C", agent="true")
    desc = by_iri(whole, "entity")[ids.openlineage_job("hess-pipelines", "dl3-production").uri]
    assert values(desc, whole, "http://www.ivoa.net/documents/ProvenanceDM/index.html#description") == ["DL2 to DL3"]
    assert ids.software(PRODUCER).uri in by_iri(whole, "agent")

    # the same event again is the same document: nothing new is stored, and the answer says so
    ol.emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs, run_facets={"nominalTime": nominal}))
    assert store.list_documents(0, 100)[1] == 3
    start = ol.transport.emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs))
    again = ol.transport.emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs))
    assert (start.status_code, again.status_code) == (201, 200)
    assert again.headers["Location"] == start.headers["Location"]


def test_fail_marks_the_activity_failed(service):
    url, _store, tokens = service
    ol = emitter(url, tokens["hess"])
    run_id = str(uuid.uuid4())
    inputs, outputs = datasets("-fail")
    error = error_message_run.ErrorMessageRunFacet(message="IRF not found", programmingLanguage="python")
    ol.emit(event(RunState.FAIL, run_id, T1, inputs=inputs, run_facets={"errorMessage": error}))
    ol.emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs))
    hess = Client(url, token=tokens["hess"], retry_for=2)
    answer = hess.provsap(ids.openlineage_run(run_id).uri, depth="0", model="W3C")
    act = by_iri(answer, "activity")[ids.openlineage_run(run_id).uri]
    assert values(act, answer, STATUS) == ["failed"]
    assert values(act, answer, "https://provhub.org/ns#error") == ["IRF not found"]
    assert values(act, answer, PROV + "startTime") and values(act, answer, PROV + "endTime")


def test_writer_token_and_rights_as_documents(service):
    url, _store, tokens = service
    run_id = str(uuid.uuid4())
    inputs, outputs = datasets("-hidden")
    with pytest.raises(requests.HTTPError) as err:
        emitter(url, None).emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs))
    assert err.value.response.status_code == 401
    assert err.value.response.json()["error"]["where"] == "Authorization"
    # rights and group as parameters of the endpoint, exactly as POST /documents takes them
    emitter(url, tokens["hess"], "api/v1/lineage?rights=proprietary&group=hess").emit(
        event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs)
    )
    with pytest.raises(requests.HTTPError) as err:  # a writer may give only its own group
        emitter(url, tokens["magic"], "api/v1/lineage?rights=proprietary&group=hess").emit(
            event(RunState.COMPLETE, run_id, T1, inputs=inputs, outputs=outputs)
        )
    assert err.value.response.status_code == 403
    # another group's event of the hidden run that contradicts it: 409, and nothing of what it holds
    with pytest.raises(requests.HTTPError) as err:
        emitter(url, tokens["magic"]).emit(event(RunState.START, run_id, T1, inputs=inputs, outputs=outputs))
    assert err.value.response.status_code == 409
    told = json.dumps(err.value.response.json())
    assert T0.isoformat()[:16] not in told and "2026-12-07T10:00" not in told and "dl3-production" not in told
    out_id = ids.openlineage_dataset("file", "/data/run_023523-hidden.dl3.fits").uri
    for c in (Client(url, retry_for=1), Client(url, token=tokens["magic"], retry_for=1)):
        for method in (c.provsap, c.resolve):
            with pytest.raises(ServiceError) as seen:
                method(out_id)
            assert seen.value.status == 404
            assert "hidden" not in seen.value.message.replace(out_id, "")
    hess = Client(url, token=tokens["hess"], retry_for=1)
    assert ids.openlineage_run(run_id).uri in by_iri(hess.provsap(out_id, model="W3C"), "activity")


def _post(url: str, token: str, body, ctype: str = "application/json", encoding: str | None = None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": ctype, "Authorization": "Bearer " + token, "Accept": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    resp = requests.post(url + "/api/v1/lineage", data=data, headers=headers, timeout=10)
    return resp.status_code, resp.json()


def good(**changes) -> dict:
    inputs, outputs = datasets("-bad")
    body = json.loads(Serde.to_json(event(RunState.START, str(uuid.uuid4()), T0, inputs=inputs, outputs=outputs)))
    body["inputs"].append({"namespace": "file", "name": "/data/second.h5"})
    for path, value in changes.items():
        target = body
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if value is ...:
            del target[int(last) if isinstance(target, list) else last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return body


@pytest.mark.parametrize(
    ("changes", "status", "where"),
    [
        ({"run.runId": ...}, 422, "run.runId"),
        ({"run.runId": "run-1"}, 422, "run.runId"),
        ({"run": ...}, 422, "run"),
        ({"job.name": ...}, 422, "job.name"),
        ({"job.namespace": 7}, 422, "job.namespace"),
        ({"eventTime": "yesterday"}, 422, "eventTime"),
        ({"eventTime": ...}, 422, "eventTime"),
        ({"eventType": "DONE"}, 422, "eventType"),
        ({"producer": ...}, 422, "producer"),
        ({"schemaURL": ...}, 422, "schemaURL"),
        ({"inputs": {"name": "x"}}, 422, "inputs"),
        ({"inputs.1.name": ...}, 422, "inputs[1].name"),
        ({"outputs.0": "a file"}, 422, "outputs[0]"),
        ({"run.facets": {"nominalTime": "noon"}}, 422, "run.facets.nominalTime"),
        ({"outputs.0.outputFacets": []}, 422, "outputs[0].outputFacets"),
        ({"job.facets": {"x": 1}}, 422, "job.facets.x"),
    ],
)
def test_a_bad_event_names_its_field(service, changes, status, where):
    url, store, tokens = service
    code, body = _post(url, tokens["hess"], good(**changes))
    assert (code, body["error"]["where"]) == (status, where), body
    assert store.list_documents(0, 10)[1] == 0


def test_bad_bodies_and_a_second_start(service):
    url, store, tokens = service
    token = tokens["hess"]
    assert _post(url, token, b"{not json")[0] == 400
    assert _post(url, token, [good()])[1]["error"]["where"] == "body"
    code, body = _post(url, token, good(), ctype="text/plain")
    assert (code, body["error"]["where"]) == (415, "Content-Type")
    code, _body = _post(url, token, gzip.compress(json.dumps(good()).encode()), encoding="gzip")
    assert code == 201
    assert _post(url, token, good(), encoding="br")[0] == 415
    # a documentation facet whose description is not text: kept as the facet, no voprov:description
    assert _post(url, token, good(**{"job.facets": {"documentation": {"description": {"a": 1}}}}))[0] == 201
    # two STARTs of one run at different times contradict each other (prov:startTime): 409
    first = good()
    assert _post(url, token, first)[0] == 201
    first["eventTime"] = (T0 + dt.timedelta(seconds=1)).isoformat()
    code, body = _post(url, token, first)
    assert code == 409 and body["error"]["where"] == ids.openlineage_run(first["run"]["runId"]).uri
    assert store.list_documents(0, 10)[1] == 3


def test_a_local_file_dataset_joins_import_fits(backend, request, tmp_path):
    """An OpenLineage input dataset that is a local file (namespace ``file``, name its path) is the
    record ``import-fits`` makes of that file, whichever comes first: lineage from the run's output
    reaches the real FITS file."""
    from click.testing import CliRunner

    from provhub.app.cli import load_commands
    from tests.client.test_capture import RUN_FILE
    from tests.faults.test_faults import env_for

    settings = make_settings(backend, request, tmp_path)
    app = create_app(settings)
    server, url = serve(app)
    try:
        run_id = str(uuid.uuid4())
        inputs = [InputDataset(namespace="file", name=str(RUN_FILE))]
        outputs = [OutputDataset(namespace="file", name=str(tmp_path / "counts.fits"))]
        emitter(url, None).emit(event(RunState.COMPLETE, run_id, T1, inputs=inputs, outputs=outputs))
        r = CliRunner().invoke(
            load_commands(), ["import-fits", str(RUN_FILE)], env=env_for(settings), catch_exceptions=False
        )
        assert r.exit_code == 0, r.output
        emitter(url, None).emit(event(RunState.START, run_id, T0, inputs=inputs, outputs=outputs))
        c = Client(url, retry_for=2)
        out_id = ids.openlineage_dataset("file", str(tmp_path / "counts.fits")).uri
        back = c.provsap(out_id, direction="BACK", depth="ALL", model="W3C")
        entities = by_iri(back, "entity")
        fits_ids = [e for e in entities if e.startswith(ids.FILE.uri + "hdr-sha256-") and e.count("/") == 5]
        assert len(fits_ids) == 1, sorted(entities)
        assert ids.openlineage_dataset("file", str(RUN_FILE)).uri not in entities  # joined, not beside
        used = [iri(back, u["prov:entity"]) for u in back.get("used", {}).values()]
        assert fits_ids[0] in used
        # what import-fits says of the file (a prov:Collection of its HDUs) is on the record the run used
        assert "prov:Collection" in json.dumps(entities[fits_ids[0]])
    finally:
        server.shutdown()
        app.extensions["provhub.store"].close()
