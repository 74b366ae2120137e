"""What an audit found, and the four ways to write it: text, JSON, HTML and Markdown.

:func:`provhub.provdm.audit.audit` makes an :class:`AuditReport` of :class:`Finding` s; the writers here
turn it into a report. The report formats, their media types and writers are entries of
:mod:`provhub.provdm.registry`; ``format_report(report, fmt)`` picks one by name.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from . import registry
from .errors import InvalidParameter
from .facts import plural

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    records: tuple[str, ...]
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "records": list(self.records), "message": self.message}


@dataclass
class AuditReport:
    roots: list[str]
    summary: dict
    findings: list[Finding] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {ERROR: 0, WARNING: 0, INFO: 0}
        for f in self.findings:
            out[f.severity] += 1
        return out

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def to_dict(self) -> dict:
        return {
            "roots": self.roots,
            "has_errors": self.has_errors,
            "counts": self.counts(),
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        return write_json(self)

    def to_text(self) -> str:
        return write_text(self)

    def to_markdown(self) -> str:
        return write_markdown(self)

    def to_html(self) -> str:
        return write_html(self)


#: Report format -> MIME type (with the charset of text types): the reports of :mod:`provhub.provdm.registry`.
REPORT_FORMATS = {
    f.name: f.media_type + ("; charset=utf-8" if f.media_type.startswith("text/") else "")
    for f in registry.of_kind(registry.REPORT)
}


def format_report(report: AuditReport, fmt: str = "text") -> str:
    """``report`` written in ``fmt`` (a name of :data:`REPORT_FORMATS`) by its registry writer."""
    entry = registry.get(registry.REPORT, fmt) if fmt in REPORT_FORMATS else None
    if entry is None:
        raise InvalidParameter(f"report format {fmt!r} is not one of " + ", ".join(REPORT_FORMATS), where="format")
    return entry.write(report)


# == writers ==================================================================================


def write_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _summary_lines(report: AuditReport) -> list[tuple[str, list[str]]]:
    """(heading, items) pairs shared by the text, Markdown and HTML writers."""
    s = report.summary
    rec = s["records"]
    span = s["time_span"]

    def ver(v):
        return f" {v}" if v else " (no version)"

    return [
        ("Products", [f"{p['name']} ({p['kind'] or 'not in the lineage'}) {p['id']}" for p in s["products"]]),
        (
            "Records",
            [
                f"{rec['entities']} entities, {rec['activities']} activities, "
                f"{rec['agents']} agents, {rec['relations']} relations"
            ],
        ),
        ("Time span", [f"{span['start']} to {span['end']}" if span["start"] else "no times"]),
        (
            f"DL3 observations ({len(s['observations'])})",
            [
                f"OBS_ID {o['obs_id'] or '?'} ({o['date'] or 'no date'}): {o['name']}"
                + (f" and {counted(len(o['records']) - 1, 'other record')}" if len(o["records"]) > 1 else "")
                for o in s["observations"]
            ],
        ),
        (f"IRFs ({len(s['irfs'])})", [f"{i['name']}{ver(i['version'])}" for i in s["irfs"]]),
        (
            f"Configuration ({len(s['configuration'])})",
            [f"{c['kind']}: {c['name']}" + _config_value(c) for c in s["configuration"]],
        ),
        (f"Context ({len(s['context'])})", [f"{c['name']} ({c['kind']})" for c in s["context"]]),
        (f"Other inputs ({len(s['other_inputs'])})", [f"{o['name']} ({o['kind']})" for o in s["other_inputs"]]),
        (f"Software ({len(s['software'])})", [f"{w['name']}{ver(w['version'])} ({w['kind']})" for w in s["software"]]),
        (
            f"Agents ({len(s['agents'])})",
            [
                f"{a['name']} ({a['type']})"
                + (f": {', '.join(a['roles'])}" if a["roles"] else "")
                + (f", {counted(a['activities'], 'activity')}" if a["activities"] else "")
                for a in s["agents"]
            ],
        ),
    ]


def _config_value(item: dict) -> str:
    value = item["value"]
    if not value or value == item["name"]:
        return ""
    return f" = {value}" if item["kind"] == "parameter" else f" at {value}"


def counted(n: int, word: str) -> str:
    """``1 record``, ``2 records``."""
    return f"{n} {word}" if n == 1 else f"{n} {plural(word)}"


def _verdict(report: AuditReport) -> str:
    c = report.counts()
    return ", ".join(counted(c[s], w) for s, w in ((ERROR, "error"), (WARNING, "warning"), (INFO, "note")))


def write_text(report: AuditReport) -> str:
    out = [f"Audit of {', '.join(report.roots)}: {_verdict(report)}", ""]
    for heading, items in _summary_lines(report):
        out.append(heading)
        out += [f"  {i}" for i in items] or ["  none"]
    out += ["", "Findings"]
    for f in report.findings:
        out.append(f"  {f.severity.upper():8} {f.code}: {f.message}")
        out.append(f"           records: {', '.join(f.records)}")
    if not report.findings:
        out.append("  none: the lineage is complete and consistent")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", str(text)).replace("\n", " ")


def write_markdown(report: AuditReport) -> str:
    out = [f"# Audit of {_md(', '.join(report.roots))}", "", f"**{_verdict(report)}**", ""]
    for heading, items in _summary_lines(report):
        out += [f"## {_md(heading)}", ""] + [f"- {_md(i)}" for i in items] + ([] if items else ["- none"]) + [""]
    out += ["## Findings", ""]
    if report.findings:
        out += ["| severity | code | records | finding |", "|---|---|---|---|"]
        out += [
            f"| {f.severity} | `{f.code}` | {_md(', '.join(f.records))} | {_md(f.message)} |" for f in report.findings
        ]
    else:
        out.append("None: the lineage is complete and consistent.")
    return "\n".join(out) + "\n"


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;"
    "text-align:left;vertical-align:top}.error{color:#a00}.warning{color:#850}"
    ".info{color:#055}code{font-size:.9em}"
)


def write_html(report: AuditReport) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Audit of {e(', '.join(report.roots))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>Audit of {e(', '.join(report.roots))}</h1>",
        f'<p class="{"error" if report.has_errors else "ok"}"><strong>{e(_verdict(report))}</strong></p>',
    ]
    for heading, items in _summary_lines(report):
        out.append(f"<h2>{e(heading)}</h2><ul>")
        out += [f"<li>{e(i)}</li>" for i in items] or ["<li>none</li>"]
        out.append("</ul>")
    out.append("<h2>Findings</h2>")
    if report.findings:
        out.append(
            '<table><thead><tr><th scope="col">Severity</th><th scope="col">Code</th>'
            '<th scope="col">Finding</th><th scope="col">Records</th></tr></thead><tbody>'
        )
        for f in report.findings:
            out.append(
                f'<tr class="{e(f.severity)}"><td>{e(f.severity)}</td>'
                f"<td><code>{e(f.code)}</code></td><td>{e(f.message)}</td>"
                f"<td>{'<br>'.join(e(r) for r in f.records)}</td></tr>"
            )
        out.append("</tbody></table>")
    else:
        out.append("<p>None: the lineage is complete and consistent.</p>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


__all__ = [
    "AuditReport",
    "Finding",
    "REPORT_FORMATS",
    "format_report",
    "write_text",
    "write_json",
    "write_html",
    "write_markdown",
    "counted",
    "ERROR",
    "WARNING",
    "INFO",
]
