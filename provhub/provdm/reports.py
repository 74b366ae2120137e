"""Writers of the impact and difference reports (docs/impact.md): text, JSON, CSV (impact) and
HTML, from the plain dictionaries :class:`provhub.app.impact.ImpactReport` and :class:`provhub.app.diff.DiffReport`
give (``to_dict()``), so that the HTTP answer and the command write the same thing.

:data:`IMPACT_FORMATS` and :data:`DIFF_FORMATS` map each format name to its media type; the
route's negotiation and the command's ``--format`` choices read them.
"""

from __future__ import annotations

import csv
import html
import io
import json

IMPACT_FORMATS = {
    "json": "application/json",
    "text": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
DIFF_FORMATS = {k: v for k, v in IMPACT_FORMATS.items() if k != "csv"}

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;"
    "vertical-align:top}code{font-size:.85em}.path{font-size:.85em;color:#444}"
)


def write_impact(report: dict, fmt: str) -> str:
    return {"json": _json, "text": impact_text, "csv": impact_csv, "html": impact_html}[fmt](report)


def write_diff(report: dict, fmt: str) -> str:
    return {"json": _json, "text": diff_text, "html": diff_html}[fmt](report)


def _json(report: dict) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


# -- impact ------------------------------------------------------------------------------------


def _path_words(report: dict, path: list[str]) -> str:
    names = report.get("names", {})
    return " -> ".join(names.get(p, p) for p in path)


def impact_text(report: dict) -> str:
    out = ["Impact of " + ", ".join(f"{s['name']} <{s['id']}>" for s in report["starts"]) if report["starts"] else ""]
    if not report["starts"]:
        out = ["No record matches: nothing is affected."]
    for sel in report["selectors"]:
        out.append(f"  selector: {sel}")
    if report["levels"]:
        out.append("  levels: " + ", ".join(report["levels"]))
    out.append(f"{report['affected']} affected product(s)")
    if "restricted" in report:
        out.append(f"  of which {report['restricted']} no anonymous reader may read (shown to admins only)")
    for level, products in report["products"].items():
        out.append(f"\n{level} ({len(products)})")
        for p in products:
            extra = f", and {p['other_paths']} other path(s)" if p["other_paths"] else ""
            parts = f", {p['parts']} part(s)" if p["parts"] else ""
            out.append(f"  {p['name']}  <{p['id']}>")
            out.append(f"    group {p['group'] or '-'}, date {p['date'] or '-'}{parts}")
            out.append(f"    via {_path_words(report, p['path'])}{extra}")
    out.append("\nWhat to re-run (nearest the input first)")
    for i, r in enumerate(report["rerun"], 1):
        out.append(f"  {i}. {r['name']}  <{r['id']}>  (distance {r['distance']})")
    if not report["rerun"]:
        out.append("  nothing")
    return "\n".join(out) + "\n"


def impact_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["level", "id", "name", "kind", "group", "date", "distance", "other_paths", "parts", "path"])
    for level, products in report["products"].items():
        for p in products:
            w.writerow(
                [
                    level,
                    p["id"],
                    p["name"],
                    p["kind"],
                    p["group"] or "",
                    p["date"] or "",
                    p["distance"],
                    p["other_paths"],
                    p["parts"],
                    " ".join(p["path"]),
                ]
            )
    return buf.getvalue()


def impact_html(report: dict) -> str:
    e = html.escape
    title = "Impact of " + ", ".join(s["name"] for s in report["starts"]) if report["starts"] else "Impact"
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
        "<ul>"
        + "".join(f"<li>{e(s['name'])} <code>{e(s['id'])}</code> ({e(s['how'])})</li>" for s in report["starts"]),
        "</ul>",
        f'<p id="affected"><strong>{report["affected"]}</strong> affected product(s)</p>',
    ]
    if "restricted" in report:
        out.append(f"<p>{report['restricted']} of them no anonymous reader may read (shown to admins only).</p>")
    for level, products in report["products"].items():
        out.append(f"<h2>{e(level)} ({len(products)})</h2><table><thead><tr>")
        out.append("".join(f'<th scope="col">{h}</th>' for h in ("Product", "Group", "Date", "Depends through")))
        out.append("</tr></thead><tbody>")
        for p in products:
            extra = f" (and {p['other_paths']} other paths)" if p["other_paths"] else ""
            out.append(
                f"<tr><td>{e(p['name'])}<br><code>{e(p['id'])}</code></td><td>{e(p['group'] or '-')}</td>"
                f'<td>{e(p["date"] or "-")}</td><td class="path">{e(_path_words(report, p["path"]))}{e(extra)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("<h2>What to re-run</h2><ol>")
    out += [f"<li>{e(r['name'])} <code>{e(r['id'])}</code></li>" for r in report["rerun"]] or ["<li>nothing</li>"]
    out.append("</ol></main></body></html>")
    return "\n".join(out) + "\n"


# -- difference --------------------------------------------------------------------------------

#: the sections of a difference report, in order, with their headings
DIFF_SECTIONS = (
    ("observations", "Observations"),
    ("irfs", "IRFs of the same observation"),
    ("software", "Software"),
    ("parameters", "Analysis parameters"),
    ("config_files", "Configuration files"),
    ("agents", "Agents"),
)


def diff_lines(report: dict) -> list[tuple[str, list[str]]]:
    out = []
    d = report["differences"]
    for key, heading in DIFF_SECTIONS:
        section = d.get(key, {})
        lines = []
        if key == "parameters":
            for p in section.get("differ", []):
                lines.append(f"{p['name']}: A {_val(p['a'])}, B {_val(p['b'])}")
            lines += [f"only in A: {p['name']} = {_val(p)}" for p in section.get("only_a", [])]
            lines += [f"only in B: {p['name']} = {_val(p)}" for p in section.get("only_b", [])]
        elif key == "irfs":
            for o in section.get("differ", []):
                lines.append(f"observation {o['obs_id']}: A {', '.join(o['a'])}; B {', '.join(o['b'])}")
        else:
            lines += [f"only in A: {x}" for x in section.get("only_a", [])]
            lines += [f"only in B: {x}" for x in section.get("only_b", [])]
            for x in section.get("differ", []):
                lines.append(f"{x['name']}: A {x['a']}, B {x['b']}")
        out.append((heading, lines))
    return out


def _val(p: dict) -> str:
    if p is None:
        return "-"
    unit = f" {p['unit']}" if p.get("unit") else ""
    return f"{p['value']}{unit}"


def diff_text(report: dict) -> str:
    a, b = report["a"], report["b"]
    out = [f"A: {a['name']} <{a['id']}>", f"B: {b['name']} <{b['id']}>"]
    out.append(f"{report['count']} difference(s)" if report["count"] else "no differences in provenance")
    for heading, lines in diff_lines(report):
        if lines:
            out.append(f"\n{heading}")
            out += [f"  {line}" for line in lines]
    return "\n".join(out) + "\n"


def diff_html(report: dict) -> str:
    e = html.escape
    a, b = report["a"], report["b"]
    title = f"{a['name']} compared with {b['name']}"
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{e(title)}</h1>",
        f"<p>A: <code>{e(a['id'])}</code><br>B: <code>{e(b['id'])}</code></p>",
        f'<p id="count"><strong>{report["count"]}</strong> difference(s)</p>',
    ]
    for heading, lines in diff_lines(report):
        out.append(f"<h2>{e(heading)}</h2><ul>")
        out += [f"<li>{e(line)}</li>" for line in lines] or ["<li>no difference</li>"]
        out.append("</ul>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
