"""GET /openapi.json: the OpenAPI 3 document of the HTTP API (kept beside the routes it describes)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from provhub.provdm import formats, registry
from provhub.provdm.provsap import RESPONSE_FORMATS

from .. import bookmarks, oidc_web, security
from . import questions

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/responses/Error"}
#: the web pages answer errors as a page; what the app answers before the page is reached, as the API does
PAGE_ERROR = {
    "description": "an error page, or an error as the other endpoints answer it",
    "content": {
        "text/html": {"schema": {"type": "string"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
        "text/plain": {"schema": {"type": "string"}},
    },
}


def _param(name, where="query", schema=None, description="", required=False):
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _content(media_type: str) -> dict:
    """A body of ``media_type``: JSON ones are objects (JSON-LD an object or an array of nodes), the
    others text."""
    if media_type.endswith("ld+json"):
        return {"schema": {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}}
    return {"schema": {"type": "object" if media_type.endswith("json") else "string"}}


def spec(base_url: str = "/", sign_in: bool = False) -> dict:
    """The document of a service; ``sign_in``: web sign-in is configured (its routes exist)."""
    doc = _spec(base_url)
    if sign_in:
        doc["paths"].update(oidc_web.openapi_paths(_param))
        doc["components"]["securitySchemes"]["session"] = {
            "type": "apiKey",
            "in": "cookie",
            "name": "provhub_session",
            "description": "a browser signed in through /login; its writes need the session's CSRF token "
            "(X-CSRF-Token or a csrf_token form field). " + oidc_web.ONLY_WITH_SIGN_IN,
        }
    _with_bookmarks(doc)
    return doc


BOOKMARK_READ = (
    "Neo4j store: the value of an earlier Provhub-Bookmark answer header; the request waits until the "
    "cluster member serving it has that write (read your own writes through any worker). The embedded "
    "store ignores it. Not a bookmark (more than 16 comma-separated values, a value of more than 1024 "
    "characters, or a character outside printable ASCII): 400 where Provhub-Bookmark (docs/deployment.md)."
)
BOOKMARK_WRITTEN = (
    "Neo4j store, after a request that wrote: the driver's bookmark(s) of that write, comma-separated; send "
    "it back on the next request (docs/deployment.md)"
)


def _with_bookmarks(doc: dict) -> None:
    """Every operation takes the Provhub-Bookmark request header (read before the route's view, so
    a bad value is 400 on every operation) and every successful write answers it
    (provhub/app/bookmarks.py)."""
    doc["components"]["parameters"] = {
        "Bookmark": {
            "name": bookmarks.HEADER,
            "in": "header",
            "required": False,
            "description": BOOKMARK_READ,
            "schema": {"type": "string", "pattern": bookmarks.PATTERN},
        }
    }
    doc["components"]["headers"] = {
        "Bookmark": {"description": BOOKMARK_WRITTEN, "schema": {"type": "string"}},
    }
    given = {bookmarks.HEADER: {"$ref": "#/components/headers/Bookmark"}}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            # new lists and dicts: operations share some (GET and POST /provsap their responses)
            op["parameters"] = [*op.get("parameters", []), {"$ref": "#/components/parameters/Bookmark"}]
            op["responses"] = {"400": ERROR, **op["responses"]}
            if method not in ("get", "head") and path not in security.READ_POSTS:
                # a write needs a writer's token (401 without one, 403 with a reader's), and with a
                # signed-in browser's session its CSRF token (403)
                op["responses"] = {"401": ERROR, "403": ERROR, **op["responses"]}
            if method not in ("get", "head"):
                op["responses"] = {
                    status: {**answer, "headers": {**answer.get("headers", {}), **given}}
                    if status.startswith("2") and "$ref" not in answer
                    else answer
                    for status, answer in op["responses"].items()
                }


def _spec(base_url: str) -> dict:
    bool_schema = {"type": "string", "enum": ["true", "false", "1", "0", "TRUE", "FALSE"]}
    syntaxes, reports = registry.of_kind(registry.SYNTAX), registry.of_kind(registry.REPORT)
    linked = [f for f in syntaxes if f.name in formats.RDF_FORMATS]
    linked_types = [f.media_type for f in linked]
    linked_content = {t: _content(t) for t in linked_types}
    doc_body = {t: _content(t) for f in syntaxes for t in f.media_types}
    doc_content = {f.media_type: _content(f.media_type) for f in syntaxes}
    report_content = {f.media_type: _content(f.media_type) for f in reports}
    ingest_result = {
        "type": "object",
        "required": ["id", "records", "created", "warnings"],
        "properties": {
            "id": {"type": "string"},
            "records": {"type": "integer"},
            "created": {"type": "boolean"},
            "warnings": {"type": "array", "items": {"type": "string"}},
        },
    }
    rights = {
        "type": "object",
        "required": ["id", "rights"],
        "properties": {
            "id": {"type": "string"},
            "rights": {"type": "string", "enum": ["public", "proprietary"]},
            "group": {"type": "string", "nullable": True},
            "release": {"type": "string", "nullable": True},
        },
    }
    rights_in = {  # fields left out keep their stored values; null clears group or release
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "rights": {"type": "string", "enum": ["public", "proprietary"]},
            "group": {"type": "string", "nullable": True},
            "release": {"type": "string", "format": "date", "nullable": True},
        },
    }
    content_encoding = _param(
        "Content-Encoding",
        "header",
        description="gzip (or x-gzip), or identity (the same as none): with gzip the body is inflated while it streams in, and PROVHUB_MAX_BODY_MB holds its "
        "decompressed size (413 above it, 400 for bad gzip); any other encoding is 415",
    )
    dataset = {
        "type": "object",
        "required": ["namespace", "name"],
        "properties": {
            "namespace": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "facets": {"type": "object", "additionalProperties": {"type": "object"}},
        },
    }
    facets = {"type": "object", "additionalProperties": {"type": "object"}}
    run_event = {  # OpenLineage 2-0-2 RunEvent, the fields provhub reads
        "type": "object",
        "required": ["eventTime", "producer", "schemaURL", "run", "job"],
        "properties": {
            "eventType": {"type": "string", "enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
            "eventTime": {"type": "string", "format": "date-time"},
            "producer": {"type": "string", "minLength": 1},
            "schemaURL": {"type": "string", "minLength": 1},
            "run": {
                "type": "object",
                "required": ["runId"],
                "properties": {"runId": {"type": "string", "format": "uuid"}, "facets": facets},
            },
            "job": {
                "type": "object",
                "required": ["namespace", "name"],
                "properties": {
                    "namespace": {"type": "string", "minLength": 1},
                    "name": {"type": "string", "minLength": 1},
                    "facets": facets,
                },
            },
            "inputs": {
                "type": "array",
                "items": {**dataset, "properties": {**dataset["properties"], "inputFacets": facets}},
            },
            "outputs": {
                "type": "array",
                "items": {**dataset, "properties": {**dataset["properties"], "outputFacets": facets}},
            },
        },
    }
    fits_result = {
        **ingest_result,
        "properties": {**ingest_result["properties"], "entity": {"type": "string", "nullable": True}},
    }
    errors = {
        "400": ERROR,
        "404": ERROR,
        "406": ERROR,
        "409": ERROR,
        "413": ERROR,
        "415": ERROR,
        "422": ERROR,
        "503": ERROR,
    }
    # an answer is served in the media type RESPONSEFORMAT names (DALI 1.1 section 3.3.3)
    prov_content = {mt: _content(mt) for f in registry.answers() for mt in f.media_types}
    provsap_params = [
        {
            **_param("ID", required=True, description="entity, activity or agent id (repeatable)"),
            "schema": {"type": "array", "items": {"type": "string"}},
            "explode": True,
        },
        _param("DEPTH", description="0, 1, ... or ALL"),
        _param("DIRECTION", schema={"type": "string", "enum": ["BACK", "FORTH", "FORWARD"]}),
        _param("MEMBERS", schema=bool_schema),
        _param("STEPS", schema=bool_schema),
        _param("AGENT", schema=bool_schema),
        _param("MODEL", schema={"type": "string", "enum": ["IVOA", "W3C"]}),
        _param(
            "RESPONSEFORMAT",
            schema={"type": "string", "enum": list(RESPONSE_FORMATS)},
            description="a format name, or one of its media types: "
            + ", ".join(t for f in registry.answers() for t in f.media_types)
            + " (the answer's Content-Type is the media type asked for)",
        ),
        _param(
            "MAXREC",
            schema={"type": "integer", "minimum": 0},
            description="DALI: at most this many entities, activities and agents (the nearest); the "
            "X-Query-Status header (and a VOTable's QUERY_STATUS) says OVERFLOW when the answer was cut; 0: "
            "metadata only",
        ),
        _param(
            "RUNID",
            schema={"type": "string", "maxLength": 64},
            description="DALI: identifier of the larger job this request is part of; echoed in X-RUNID "
            "(and a VOTable's INFO RUNID) and logged",
        ),
    ]
    answer_headers = {
        "X-Query-Status": {"schema": {"type": "string", "enum": ["OK", "OVERFLOW"]}},
        "X-RUNID": {"schema": {"type": "string"}},
    }
    provsap_responses = {
        "200": {"description": "the lineage", "content": prov_content, "headers": answer_headers},
        "400": ERROR,
        "404": ERROR,
        "422": ERROR,
        "503": ERROR,
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "provhub",
            "version": "0.1.0",
            "description": "Provenance store service: IVOA ProvenanceDM 1.0 on W3C PROV, ProvSAP.",
        },
        "servers": [{"url": base_url}],
        "paths": {
            **questions.openapi_paths(_param, ERROR),  # /impact, /diff, /manifest
            "/documents": {
                "post": {
                    "summary": "Ingest a PROV document (atomic, idempotent)",
                    "operationId": "postDocument",
                    "parameters": [
                        _param("validation", schema={"type": "string", "enum": ["strict", "warn", "off"]}),
                        _param("rights", schema={"type": "string", "enum": ["public", "proprietary"]}),
                        _param("group"),
                        _param("release", schema={"type": "string", "format": "date"}),
                        _param(
                            "supersedes", description="id of a live document this one corrects (it becomes superseded)"
                        ),
                        content_encoding,
                    ],
                    "requestBody": {"required": True, "content": doc_body},
                    "responses": {
                        "201": {"description": "stored", "content": {"application/json": {"schema": ingest_result}}},
                        "200": {
                            "description": "already stored, nothing changed",
                            "content": {"application/json": {"schema": ingest_result}},
                        },
                        **errors,
                    },
                },
                "get": {
                    "summary": "List documents",
                    "operationId": "listDocuments",
                    "parameters": [
                        _param("offset", schema={"type": "integer", "minimum": 0}),
                        _param("limit", schema={"type": "integer", "minimum": 1, "maximum": 1000}),
                    ],
                    "responses": {
                        "200": {
                            "description": "a page of documents",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["documents", "total"],
                                        "properties": {
                                            "documents": {"type": "array", "items": {"type": "object"}},
                                            "total": {"type": "integer"},
                                            "offset": {"type": "integer"},
                                            "limit": {"type": "integer"},
                                            "next": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "400": ERROR,
                    },
                },
            },
            "/api/v1/lineage": {
                "post": {
                    "summary": "Ingest an OpenLineage RunEvent, as Marquez takes it (docs/model.md: the mapping)",
                    "description": "The events of one run may come in any order, each its own document: they join "
                    "in one activity. Writer token, rights and gzip as POST /documents.",
                    "operationId": "postOpenLineageEvent",
                    "parameters": [
                        _param("rights", schema={"type": "string", "enum": ["public", "proprietary"]}),
                        _param("group"),
                        _param("release", schema={"type": "string", "format": "date"}),
                        content_encoding,
                    ],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": run_event}}},
                    "responses": {
                        "201": {
                            "description": "stored (the event's document)",
                            "content": {"application/json": {"schema": ingest_result}},
                        },
                        "200": {
                            "description": "the same event was stored already",
                            "content": {"application/json": {"schema": ingest_result}},
                        },
                        "401": ERROR,
                        "403": ERROR,
                        **errors,
                    },
                }
            },
            "/documents/{doc_id}": {
                "get": {
                    "summary": "A document as ingested, in " + registry.spoken(f.label for f in syntaxes),
                    "operationId": "getDocument",
                    "parameters": [
                        _param("doc_id", "path", required=True),
                        _param("format", schema={"type": "string", "enum": [f.name for f in syntaxes]}),
                    ],
                    "responses": {
                        "200": {
                            "description": "the document; its HTML page when Accept prefers text/html to "
                            "every PROV media type and no format is given (a browser)",
                            "content": {**doc_content, "text/html": {"schema": {"type": "string"}}},
                        },
                        "404": ERROR,
                        "406": ERROR,
                    },
                },
                "delete": {
                    "summary": "Retract a document (owner group writer or admin); its history is kept",
                    "operationId": "retractDocument",
                    "parameters": [_param("doc_id", "path", required=True)],
                    "responses": {
                        "200": {
                            "description": "retracted",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                        "503": ERROR,
                    },
                },
            },
            "/documents/{doc_id}/history": {
                "get": {
                    "summary": "What happened to a document: ingested, superseded, supersedes, retracted",
                    "operationId": "documentHistory",
                    "parameters": [_param("doc_id", "path", required=True)],
                    "responses": {
                        "200": {
                            "description": "its status and history",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "404": ERROR,
                    },
                },
            },
            "/resolve": {
                "get": {
                    "summary": "The canonical id of a record known by ID (id, file name, path, digest, OBS_ID...) and its aliases",
                    "operationId": "resolve",
                    "parameters": [_param("ID", required=True)],
                    "responses": {
                        "200": {
                            "description": "canonical id, aliases and joined stand-ins",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": ERROR,
                        "404": ERROR,
                    },
                },
            },
            "/datalink": {
                "get": {
                    "summary": "DataLink 1.1 {links} of datasets: #this, #progenitor, #calibration, #auxiliary, "
                    "#derivation and a ProvSAP service descriptor (docs/api.md)",
                    "operationId": "datalink",
                    "parameters": [
                        _param(
                            "ID",
                            required=True,
                            schema={"type": "array", "items": {"type": "string"}},
                            description="a record id or any of its aliases; repeatable",
                        ),
                        _param("RESPONSEFORMAT", description="the links VOTable (the only format)"),
                    ],
                    "responses": {
                        "200": {
                            "description": "the links document; an unknown or hidden ID is a row with error_message",
                            "content": {"application/x-votable+xml;content=datalink": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                        "406": ERROR,
                    },
                },
                "post": {
                    "summary": "The same as GET, the parameters in a form body (DALI 1.1)",
                    "operationId": "datalinkPost",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    # one ID or several: in a form both are ID=... (repeated)
                                    "properties": {
                                        "ID": {
                                            "anyOf": [
                                                {"type": "string"},
                                                {"type": "array", "items": {"type": "string"}},
                                            ]
                                        }
                                    },
                                },
                                "encoding": {"ID": {"explode": True}},
                            }
                        }
                    },
                    "responses": {"200": {"description": "the links document"}, "400": ERROR, "406": ERROR},
                },
            },
            "/records/{record_id}": {
                "get": {
                    "summary": "A record's page (HTML), or its PROV-O (one step back and forth, with agents, "
                    "each record rdfs:seeAlso its page) to Accept " + registry.spoken(linked_types) + " or ?format=",
                    "operationId": "recordPage",
                    "parameters": [
                        _param("record_id", "path", required=True, description="the record's IRI, percent-encoded"),
                        _param("format", schema={"type": "string", "enum": [f.name for f in linked]}),
                    ],
                    "responses": {
                        "200": {
                            "description": "the page, or the record as linked data; Link names the other forms",
                            "content": {"text/html": {"schema": {"type": "string"}}, **linked_content},
                        },
                        "400": PAGE_ERROR,
                        "404": PAGE_ERROR,
                        "406": PAGE_ERROR,
                        "422": PAGE_ERROR,
                        "503": PAGE_ERROR,
                    },
                },
            },
            "/obscore": {
                "get": {
                    "summary": "The products provhub knows as an ObsCore 1.1 VOTable; access_url: their DataLink document",
                    "operationId": "obscore",
                    "parameters": [
                        _param("MAXREC", schema={"type": "integer"}, description="most rows (default 1000)")
                    ],
                    "responses": {
                        "200": {
                            "description": "ObsCore table (ivoa.obscore columns, ObsCore 1.1 utypes)",
                            "content": {"application/x-votable+xml": {"schema": {"type": "string"}}},
                        },
                        "400": ERROR,
                    },
                },
            },
            "/pins": {
                "put": {
                    "summary": "An admin's decision for an ambiguous name: key means the record 'to'",
                    "operationId": "putPin",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["key", "to"],
                                    "properties": {
                                        "key": {"type": "string"},
                                        "to": {"type": "string"},
                                        "remove": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "pinned",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                    },
                },
            },
            "/provsap": {
                "get": {
                    "summary": "ProvSAP lineage query",
                    "operationId": "provsap",
                    "parameters": provsap_params,
                    "responses": provsap_responses,
                },
                "post": {
                    "summary": "ProvSAP lineage query, the parameters as a form (DALI sync POST)",
                    "operationId": "provsapPost",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "required": ["ID"],
                                    "properties": {p["name"]: p["schema"] for p in provsap_params},
                                },
                                "encoding": {"ID": {"explode": True}},
                            }
                        },
                    },
                    "responses": provsap_responses,
                },
            },
            "/documents/{doc_id}/rights": {
                "get": {
                    "summary": "Access rights of a document",
                    "operationId": "getRights",
                    "parameters": [_param("doc_id", "path", required=True)],
                    "responses": {
                        "200": {"description": "rights", "content": {"application/json": {"schema": rights}}},
                        "404": ERROR,
                    },
                },
                "put": {
                    "summary": "Change the access rights of a document (an admin, a writer of the owner group, or the "
                    "poster of a document without one); fields left out are kept",
                    "operationId": "putRights",
                    "parameters": [_param("doc_id", "path", required=True)],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": rights_in}}},
                    "responses": {
                        "200": {"description": "new rights", "content": {"application/json": {"schema": rights}}},
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "404": ERROR,
                    },
                },
            },
            "/fits": {
                "post": {
                    "summary": "Import the headers of a FITS file (whole file or header-only upload) as one PROV document",
                    "operationId": "postFits",
                    "parameters": [
                        _param("filename"),
                        _param("validation", schema={"type": "string", "enum": ["strict", "warn", "off"]}),
                        _param("rights", schema={"type": "string", "enum": ["public", "proprietary"]}),
                        _param("group"),
                        _param("release", schema={"type": "string", "format": "date"}),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fits": {"schema": {"type": "string", "format": "binary"}},
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"file": {"type": "string", "format": "binary"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        "201": {"description": "stored", "content": {"application/json": {"schema": fits_result}}},
                        "200": {
                            "description": "already stored",
                            "content": {"application/json": {"schema": fits_result}},
                        },
                        "400": ERROR,
                        "401": ERROR,
                        "403": ERROR,
                        "413": ERROR,
                        "422": ERROR,
                        "503": ERROR,
                    },
                },
            },
            "/audit": {
                "get": {
                    "summary": "Audit report of a product's backward lineage (summary, completeness, consistency)",
                    "operationId": "audit",
                    "parameters": [
                        {
                            **_param("ID", required=True),
                            "schema": {"type": "array", "items": {"type": "string"}},
                            "explode": True,
                        },
                        _param("format", schema={"type": "string", "enum": [f.name for f in reports]}),
                    ],
                    "responses": {
                        "200": {"description": "the report", "content": report_content},
                        "400": ERROR,
                        "404": ERROR,
                        "406": ERROR,
                        "422": ERROR,
                        "503": ERROR,
                    },
                },
            },
            "/health": {
                "get": {
                    "summary": "Service and store health",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "healthy",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "503": {
                            "description": "store unavailable",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                    },
                }
            },
            "/availability": {
                "get": {
                    "summary": "VOSI availability",
                    "operationId": "availability",
                    "responses": {
                        "200": {
                            "description": "VOSI availability XML",
                            "content": {"text/xml": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/capabilities": {
                "get": {
                    "summary": "VOSI capabilities (with the service limits)",
                    "operationId": "capabilities",
                    "responses": {
                        "200": {
                            "description": "VOSI capabilities XML",
                            "content": {"text/xml": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a provhub API token (`provhub tokens create`), or an OpenID Connect access "
                    "token (JWT) of an issuer in PROVHUB_OIDC_ISSUERS; reads of public data need none "
                    "(docs/security.md)",
                }
            },
            "responses": {
                "Error": {
                    "description": "an error: JSON (the REST endpoints' default), a DALI error VOTable "
                    "(QUERY_STATUS=ERROR; ProvSAP's default) or plain text, as Accept asks",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
                        "application/x-votable+xml": {"schema": {"type": "string"}},
                        "text/xml": {"schema": {"type": "string"}},
                        "text/plain": {"schema": {"type": "string"}},
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {
                        "status": {"type": "integer"},
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "where"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "where": {"type": "string", "nullable": True},
                                "details": {"type": "array", "items": {}},
                            },
                        },
                    },
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec(request.url_root, sign_in="provhub.login" in current_app.extensions))
