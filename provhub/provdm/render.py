"""Lineage pictures: a PROV document drawn with Graphviz following the W3C PROV conventions.

``render(doc, "svg")`` builds DOT text itself (sorted, so the same document gives byte-identical
output) and pipes it through the Graphviz ``dot`` binary. Conventions:

- entities: yellow ellipses; activities: blue rectangles; agents: orange houses; relations are
  labelled with their PROV-N name (and ``prov:role``), coloured as ``prov.dot`` colours them;
- IVOA descriptions and parameters are folded into the label of the activity/entity they describe
  (``isDescribedBy``/``wasConfiguredBy``); configuration files are small note nodes;
- labels show the data level (DL0..DL6, IRF), OBS_ID and version when the record has them;
- above ``node_cap`` nodes, siblings of one kind attached to the same neighbour by the same
  relation are collapsed into a summary node ("1,000 DL3 event lists") whose link is
  ``#expand=<group id>``; ``render(..., expand={group id})`` draws that group in full;
- ``by_observation=True`` draws the records of one OBS_ID (run, files, HDUs, IRFs) as one node
  whose link is ``#expand=<group id>`` too;
- every text is escaped; node links come only from the caller's ``link(iri)`` and only
  ``http(s)``/relative URLs are kept. Serve SVG with :data:`SVG_CSP`.

What a record is (kind, data level, OBS_ID, version...) comes from :mod:`provhub.provdm.facts`, which the
audits and the record pages read too.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Collection
from urllib.parse import urlsplit

from prov.model import ProvDocument

from . import registry
from . import vocabulary as voc
from .errors import InvalidParameter, QueryTimeout, RenderError
from .facts import (
    Element,
    Flat,
    Link,
    data_level,
    is_irf,
    ivoa_class,
    level_of,
    natural_key,
    noun,
    obs_id,
    plural,
    prov_types,
    read_facts,
    text_of,
    time_of,
    title,
    version,
)

#: Content-Security-Policy to serve rendered SVG with: no scripts, no external loads.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

#: Output format (Graphviz ``-T`` name) -> MIME type: the pictures of :mod:`provhub.provdm.registry`.
FORMATS = {f.name: f.media_type for f in registry.of_kind(registry.PICTURE)}
DIRECTIONS = ("BT", "TB", "LR", "RL")
#: Seconds the Graphviz binary may take before rendering fails.
DOT_TIMEOUT = 60


# == drawing ===================================================================================

_NODE_STYLE = {
    "entity": 'shape=ellipse, style=filled, fillcolor="#FFFC87", color="#808080"',
    "activity": 'shape=box, style=filled, fillcolor="#9FB1FC", color="#0000FF"',
    "agent": 'shape=house, style=filled, fillcolor="#FED37F", color="#808080"',
    "note": 'shape=note, style=filled, fillcolor="#F5F5F5", color="#A0A0A0"',
}
_SUMMARY_STYLE = ', peripheries=2, style="filled,dashed"'
_EDGE_STYLE = {
    "wasGeneratedBy": 'color="darkgreen", fontcolor="darkgreen"',
    "used": 'color="red4", fontcolor="red"',
    "wasAttributedTo": 'color="#FED37F"',
    "wasAssociatedWith": 'color="#FED37F"',
    "actedOnBehalfOf": 'color="#FED37F"',
    "wasInfluencedBy": 'color="grey", fontcolor="grey40"',
    "hadMember": "style=dashed",
}
_DESCRIPTION_EDGE = 'color="grey", fontcolor="grey40", style=dashed'
#: IVOA records drawn inside the label of the record that points at them.
_FOLDED = {
    "Parameter",
    "ParameterDescription",
    "ActivityDescription",
    "EntityDescription",
    "DatasetDescription",
    "ValueDescription",
    "UsageDescription",
    "GenerationDescription",
    "ConfigFileDescription",
}
#: IVOA records drawn as small notes when they are not folded into another record.
_NOTE_CLASSES = _FOLDED | {"ConfigFile"}
_MAX_LINE = 48
_MAX_FOLDED_LINES = 6
_LINK_SCHEMES = {"", "http", "https"}


def _clip(text: str, width: int = _MAX_LINE) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def _h(text: str, width: int = _MAX_LINE) -> str:
    """Text for a Graphviz HTML-like label: clipped, XML-escaped, backslashes doubled (Graphviz
    expands \\N, \\G... even inside HTML labels)."""
    return html.escape(_clip(text, width), quote=True).replace("\\", "\\\\")


def _q(text: str) -> str:
    """A double-quoted DOT string; backslashes doubled so Graphviz escapes (\\N...) stay text."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def safe_link(url: str | None) -> str | None:
    """``url`` if it is relative or http(s) (checked on its HTML-unescaped form), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(html.unescape(url).strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in _LINK_SCHEMES else None


def _node_key(iri: str) -> str:
    return hashlib.sha1(iri.encode("utf-8")).hexdigest()[:12]


@dataclass
class _Node:
    key: str  # IRI, or group id of a summary node
    kind: str  # entity | activity | agent | note
    signature: str  # noun used to group siblings
    lines: list[str]  # label lines (HTML)
    tooltip: str
    url: str | None = None
    count: int = 1  # records it stands for
    summary: bool = False
    highlight: bool = False


def _times_line(el: Element) -> str | None:
    start = time_of(next(iter(el.values("startTime")), None))
    end = time_of(next(iter(el.values("endTime")), None))
    when = start or end
    if when is None:
        return None
    fmt = "%Y-%m-%d %H:%M"
    if start and end:
        tail = end.strftime("%H:%M" if end.date() == start.date() else fmt)
        return f"{start.strftime(fmt)} – {tail}"
    return when.strftime(fmt)


def _facts_line(el: Element) -> str:
    parts = [noun(el)]
    obs, ver = obs_id(el), version(el)
    if obs:
        parts.append(f"OBS_ID {obs}")
    if ver:
        parts.append(f"v{ver}" if ver[:1].isdigit() else ver)
    return " · ".join(parts)


def _folded_line(el: Element) -> str:
    cls = ivoa_class(el)
    if cls == "Parameter":
        value = el.first("value")
        return f"{title(el)} = {value}" if value is not None else title(el)
    ver, desc = version(el), title(el)
    kinds = el.own("type") if cls == "ActivityDescription" else []
    if ver and not desc.endswith(ver):  # "GADF EVENTS 0.2" says its version already
        desc += f" {ver}"
    return desc + (f" ({text_of(kinds[0])})" if kinds else "")


def _record_node(el: Element, folded: list[str], url: str | None, highlight: bool) -> _Node:
    kind = "note" if ivoa_class(el) in _NOTE_CLASSES else el.kind
    small = '<FONT POINT-SIZE="8">{}</FONT>'
    lines = [small.format(_h(_facts_line(el)))]
    times = _times_line(el) if el.kind == "activity" else None
    if times:
        lines.append(small.format(_h(times)))
    lines += [f'<FONT POINT-SIZE="8" COLOR="#333333">{_h(text)}</FONT>' for text in folded[:_MAX_FOLDED_LINES]]
    if len(folded) > _MAX_FOLDED_LINES:
        lines.append(small.format(f"+{len(folded) - _MAX_FOLDED_LINES} more"))
    if title(el) != el.short:
        lines.append(f'<FONT POINT-SIZE="7" COLOR="#555555">{_h(el.short)}</FONT>')
    return _Node(el.id, kind, noun(el), lines, el.id, url, highlight=highlight)


def _label(lines: list[str], title_text: str) -> str:
    body = [f"<B>{_h(title_text)}</B>"] + lines
    return "<" + "<BR/>".join(body) + ">"


class _Drawing:
    """The graph as drawn: nodes keyed by IRI or group id, edges with counts."""

    def __init__(self, flat: Flat, highlight: set[str], link):
        self.nodes: dict[str, _Node] = {}
        self.edges: dict[tuple[str, str, str], int] = {}  # (src, dst, label) -> count
        self.edge_type: dict[tuple[str, str, str], str] = {}
        self.titles: dict[str, str] = {}
        hosts = self._fold_hosts(flat)
        folded_lines: dict[str, list[str]] = defaultdict(list)
        for iri, host_set in sorted(hosts.items()):
            for host in sorted(host_set):
                if host not in hosts:
                    folded_lines[host].append(_folded_line(flat.elements[iri]))
        for iri, el in sorted(flat.elements.items()):
            if iri not in hosts:
                self.titles[iri] = title(el)
                self.nodes[iri] = _record_node(
                    el,
                    sorted(folded_lines.get(iri, [])),
                    safe_link(link(iri)) if link else None,
                    iri in highlight or el.short in highlight,
                )
        for rel in flat.links:
            if rel.dst in hosts and rel.src in hosts[rel.dst]:
                continue  # drawn as a line of the source's label
            label = rel.name + (f" ({rel.role})" if rel.role else "")
            for src in self._resolve(rel.src, hosts):
                for dst in self._resolve(rel.dst, hosts):
                    if src != dst:
                        key = (src, dst, label)
                        self.edges[key] = self.edges.get(key, 0) + 1
                        self.edge_type[key] = rel.name if rel.category != voc.DESCRIPTION else ""

    @staticmethod
    def _fold_hosts(flat: Flat) -> dict[str, set[str]]:
        """Folded record IRI -> IRIs of the records it is drawn inside."""
        hosts: dict[str, set[str]] = defaultdict(set)
        for rel in flat.links:
            if rel.category == voc.DESCRIPTION and rel.src and rel.dst:
                target = flat.elements.get(rel.dst)
                if target is not None and ivoa_class(target) in _FOLDED:
                    hosts[rel.dst].add(rel.src)
        return dict(hosts)

    @staticmethod
    def _resolve(iri: str | None, hosts: dict[str, set[str]]) -> list[str]:
        """The drawn nodes standing for ``iri`` (its hosts, transitively, when folded)."""
        if iri is None:
            return []
        out, todo, seen = set(), [iri], set()
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            if cur in hosts:
                todo.extend(hosts[cur])
            else:
                out.add(cur)
        return sorted(out)

    # -- folding by observation ----------------------------------------------------------------

    def fold_observations(self, flat: Flat, expand: Collection[str]) -> None:
        """Draw the records of one observation (one OBS_ID: the run, its files, HDUs, IRFs and
        DL3 production) as one node, unless its group id is in ``expand``. Highlighted records
        and agents stay out."""
        runs: dict[str, list[Element]] = defaultdict(list)
        for key, node in self.nodes.items():
            el = flat.elements.get(key)
            if el is None or el.kind == "agent" or node.highlight:
                continue
            obs = obs_id(el)
            if obs:
                runs[obs].append(el)
        moved: dict[str, str] = {}
        for obs, members in sorted(runs.items()):
            gid = _group_id(("observation", obs))
            if len(members) < 2 or gid in expand:
                continue
            for el in members:
                self.nodes.pop(el.id)
            self.titles[gid] = f"OBS_ID {obs}"
            self.nodes[gid] = _run_node(gid, obs, sorted(members, key=lambda e: e.id))
            moved.update((el.id, gid) for el in members)
        if moved:
            self._move_edges(moved)

    def fold(self, flat: Flat, expand: Collection[str], by: str, within: str | None = None) -> None:
        """Draw the records that share a night, a telescope or a data level (``by``, one of
        :data:`FOLDS`) as one node, unless its group id is in ``expand``; ``observation`` is
        :meth:`fold_observations`. A record of an observation takes the night and telescope of
        its observation (its IRFs have neither); agents and highlighted records stay out.
        ``within``: a fold drawn before this one (an expanded telescope shows its nights): its
        records group by both, so a night holds the runs of one telescope only."""
        if by == "observation":
            self.fold_observations(flat, expand)
            return
        if by not in FOLDS:
            raise InvalidParameter(f"fold must be one of {', '.join(FOLDS)}, not {by!r}", where="fold")
        value_of = _fold_value(flat, by)
        outer = _fold_value(flat, within) if within in _FOLD_TITLES else None
        groups: dict[tuple, list[Element]] = defaultdict(list)
        for key, node in self.nodes.items():
            found = flat.elements.get(key)
            if found is None or found.kind == "agent" or node.highlight:
                continue
            value = value_of(found)
            if value:
                groups[(outer(found) if outer else None, value)].append(found)
        moved: dict[str, str] = {}
        for (around, value), members in sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            gid = _group_id((by, value) if around is None else (by, around, value))
            if len(members) < 2 or gid in expand or (by != "level" and _one_run(members)):
                continue  # a night or telescope of one observation is drawn as that run
            for el in members:
                self.nodes.pop(el.id)
            node = _fold_node(gid, by, value, sorted(members, key=lambda e: e.id), around)
            self.titles[gid] = node.tooltip.split(":", 1)[0]
            self.nodes[gid] = node
            moved.update((el.id, gid) for el in members)
        if moved:
            self._move_edges(moved)

    # -- collapsing ----------------------------------------------------------------------------

    def collapse(self, cap: int, expand: Collection[str]) -> None:
        """Merge groups of siblings (largest first) until at most ``cap`` nodes are drawn."""
        while len(self.nodes) > cap:
            groups: dict[tuple, set[str]] = defaultdict(set)
            for src, dst, label in self.edges:
                kind = self.edge_type[(src, dst, label)] or label
                for member, neighbour, way in ((src, dst, "out"), (dst, src, "in")):
                    node = self.nodes[member]
                    if not node.highlight:
                        groups[(neighbour, kind, way, node.kind, node.signature)].add(member)
            ranked = sorted(
                ((len(m), _group_id(k), k) for k, m in groups.items() if len(m) > 1), key=lambda t: (-t[0], t[1])
            )
            moved: dict[str, str] = {}  # member -> group id, for this round
            for _, gid, key in ranked:
                if gid in expand:
                    continue
                members = sorted(groups[key] - moved.keys())
                if len(members) < 2:
                    continue
                self._summarise(gid, key, members)
                moved.update((m, gid) for m in members)
                if len(self.nodes) <= cap:
                    break
            if not moved:
                break
            self._move_edges(moved)

    def _summarise(self, gid: str, key: tuple, members: list[str]) -> None:
        """Replace ``members`` by one summary node (edges are moved by :meth:`_move_edges`)."""
        parts = [self.nodes.pop(m) for m in members]
        count = sum(p.count for p in parts)
        sig = key[4]
        names = sorted(self.titles.get(p.key, p.tooltip) for p in parts)
        tip = f"{count:,} {plural(sig)}: " + ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        self.titles[gid] = f"{count:,} {plural(sig)}"
        self.nodes[gid] = _Node(
            gid,
            parts[0].kind,
            sig,
            ['<FONT POINT-SIZE="8">collapsed group · click to expand</FONT>'],
            tip,
            f"#expand={gid}",
            count,
            summary=True,
        )

    def _move_edges(self, moved: dict[str, str]) -> None:
        """Point edges of collapsed members at their group; merge duplicates, counting them."""
        edges: dict[tuple[str, str, str], int] = {}
        types: dict[tuple[str, str, str], str] = {}
        for (src, dst, label), n in self.edges.items():
            new = (moved.get(src, src), moved.get(dst, dst), label)
            if new[0] == new[1]:
                continue
            edges[new] = edges.get(new, 0) + n
            types[new] = self.edge_type[(src, dst, label)]
        self.edges, self.edge_type = edges, types

    # -- DOT -----------------------------------------------------------------------------------

    def dot(self, direction: str) -> str:
        order = sorted(self.nodes, key=lambda k: (self.nodes[k].summary, k))
        names = {k: f"n{i}" for i, k in enumerate(order)}
        out = [
            "digraph lineage {",
            f'  graph [rankdir={direction}, charset="UTF-8", fontname="Helvetica", '
            'nodesep=0.25, ranksep=0.45, bgcolor="white"];',
            '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.04"];',
            '  edge [fontname="Helvetica", fontsize=8, arrowsize=0.7];',
        ]
        for k in order:
            node = self.nodes[k]
            attrs = [_NODE_STYLE[node.kind] + (_SUMMARY_STYLE if node.summary else "")]
            attrs.append("label=" + _label(node.lines, self.titles.get(k, k)))
            attrs.append("tooltip=" + _q(html.escape(_clip(node.tooltip, 300), quote=True)))
            attrs.append("id=" + _q(("group-" + k) if node.summary else "rec-" + _node_key(k)))
            if node.url:
                # Graphviz copies URL into SVG unescaped (and passes entities through)
                attrs.append("URL=" + _q(html.escape(node.url, quote=True)) + ', target="_top"')
            if node.highlight:
                attrs.append('penwidth=3, color="#C0392B"')
            out.append(f"  {names[k]} [{', '.join(attrs)}];")
        for src, dst, label in sorted(self.edges, key=lambda e: (names[e[0]], names[e[1]], e[2])):
            count = self.edges[(src, dst, label)]
            kind = self.edge_type[(src, dst, label)]
            style = _EDGE_STYLE.get(kind, "") if kind else _DESCRIPTION_EDGE
            text = label + (f" ×{count:,}" if count > 1 else "")
            attrs = [f"label=<{_h(text, 40)}>"] + ([style] if style else [])
            out.append(f"  {names[src]} -> {names[dst]} [{', '.join(attrs)}];")
        out.append("}")
        return "\n".join(out) + "\n"


#: what an observation group is called when the node cap collapses several of them
RUN_SIGNATURE = "observation"


def _run_node(gid: str, obs: str, members: list[Element]) -> _Node:
    """The node standing for the records of observation ``obs``: its date, target, telescopes
    and IRFs, and a link that expands it."""
    times = sorted(t for el in members for t in map(time_of, el.values("startTime")) if t is not None)
    days = sorted(text_of(v).strip()[:10] for el in members for v in el.values("date_obs"))  # FITS DATE-OBS
    when = times[0].strftime("%Y-%m-%d %H:%M") if times else (days[0] if days else None)
    target = next((el.first("object") for el in members if el.first("object")), None)
    tels = next((el.first("tellist") for el in members if el.first("tellist")), None)
    irfs = sorted({_hdu_name(el) for el in members if is_irf(el)})
    facts = [
        when,
        target,
        f"telescopes {tels}" if tels else None,
        "IRFs " + " ".join(irfs) if irfs else None,
    ]  # short lines keep the node narrow: a row of runs fits a screen
    lines = [f'<FONT POINT-SIZE="8">{_h(f, 28)}</FONT>' for f in facts if f]
    lines.append(f'<FONT POINT-SIZE="7" COLOR="#555555">{len(members)} records · expand</FONT>')
    names = [title(el) for el in members]
    tip = f"OBS_ID {obs}: {len(members)} records: " + ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    # count 1: a collapsed group of runs counts observations, not records
    return _Node(gid, "entity", RUN_SIGNATURE, lines, tip, f"#expand={gid}", 1, summary=True)


#: what a graph can be folded by: one node per observation (OBS_ID), observing night, telescope
#: or data level (:meth:`_Drawing.fold`)
FOLDS = ("observation", "night", "telescope", "level")
_FOLD_TITLES = {"night": "night of {}", "telescope": "{}", "level": "{}"}


def _night(el: Element) -> str | None:
    """The observing night of a record (its start, FITS DATE-OBS and TIME-OBS), as the UTC date
    twelve hours earlier: runs after midnight stay with the evening they started."""
    when = time_of(next(iter(el.values("startTime")), None))
    if when is None:
        day = next((text_of(v).strip() for v in el.values("date_obs")), "")
        clock = next((text_of(v).strip() for v in el.values("time_obs")), "")
        when = time_of(f"{day}T{clock or '12:00:00'}") if len(day) == 10 else None
    if when is None:
        return None
    return (when - _dt.timedelta(hours=12)).date().isoformat()


def _telescope(el: Element) -> str | None:
    """The telescope a record names (FITS TELESCOP, else INSTRUME)."""
    value = (el.first("telescop") or el.first("instrume") or "").strip()
    return value or None


def _one_run(members: list[Element]) -> bool:
    runs = {obs_id(el) for el in members}
    return len(runs) == 1 and None not in runs


def _fold_value(flat: Flat, by: str) -> Callable[[Element], str | None]:
    """What a record is folded under by ``by`` (a night, telescope or data level): a record of an
    observation has the night and telescope of its observation."""
    if by == "level":
        return level_of
    own = _night if by == "night" else _telescope
    runs: dict[str, list[Element]] = defaultdict(list)
    for each in flat.elements.values():
        obs = obs_id(each)
        if obs:
            runs[obs].append(each)
    of_run = {obs: next((k for k in sorted(filter(None, map(own, els)))), None) for obs, els in runs.items()}

    def value(el: Element) -> str | None:
        obs = obs_id(el)
        return of_run.get(obs) if obs else own(el)

    return value


def _fold_node(gid: str, by: str, value: str, members: list[Element], around: str | None = None) -> _Node:
    """The node standing for the records of one night, telescope or data level (of the group
    ``around`` of an outer fold, if any): how many observations and records it holds, and a
    link that expands it."""
    runs = sorted({o for o in map(obs_id, members) if o}, key=natural_key)
    name = _FOLD_TITLES[by].format(value) + (f" ({around})" if around else "")
    lines = []
    if runs:
        shown = ", ".join(runs[:3]) + (", …" if len(runs) > 3 else "")
        lines.append(f'<FONT POINT-SIZE="8">{_h(f"{len(runs):,} observation" + ("s" if len(runs) > 1 else ""))}</FONT>')
        lines.append(f'<FONT POINT-SIZE="8">{_h(shown, 28)}</FONT>')
    lines.append(f'<FONT POINT-SIZE="7" COLOR="#555555">{len(members):,} records · expand</FONT>')
    names = [title(el) for el in members]
    tip = f"{name}: {len(members)} records: " + ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    return _Node(gid, "entity", by, lines, tip, f"#expand={gid}", len(members), summary=True)


def _hdu_name(el: Element) -> str:
    """``AEFF`` for the HDU ``file.fits[AEFF]``: its HDU name, else its title."""
    name = el.first("hduName")
    if name:
        return name
    m = re.search(r"\[([^\]]+)\]$", title(el))
    return m.group(1) if m else title(el)


def _group_id(key: tuple) -> str:
    return "g" + hashlib.sha1(repr(key).encode("utf-8")).hexdigest()[:12]


def to_dot(
    doc: ProvDocument,
    *,
    direction: str = "BT",
    node_cap: int = 150,
    highlight: Collection[str] | None = None,
    link: Callable[[str], str | None] | None = None,
    expand: Collection[str] = (),
    by_observation: bool = False,
    fold: Collection[str] = (),
    flat: Flat | None = None,
) -> str:
    """The DOT text :func:`render` lays out (same arguments)."""
    direction = (direction or "").upper()
    if direction not in DIRECTIONS:
        raise InvalidParameter(
            f"layout direction {direction!r} is not one of " + ", ".join(DIRECTIONS), where="direction"
        )
    flat = read_facts(doc) if flat is None else flat
    drawing = _Drawing(flat, set(highlight or ()), link)
    within = None
    for by in fold or (("observation",) if by_observation else ()):
        drawing.fold(flat, set(expand), by, within)
        within = by
    drawing.collapse(max(int(node_cap), 1), set(expand))
    return drawing.dot(direction)


def render(
    doc: ProvDocument,
    fmt: str = "svg",
    *,
    direction: str = "BT",
    node_cap: int = 150,
    highlight: set[str] | None = None,
    link: Callable[[str], str | None] | None = None,
    expand: Collection[str] = (),
    by_observation: bool = False,
    fold: Collection[str] = (),
    timeout: float = DOT_TIMEOUT,
    flat: Flat | None = None,
) -> bytes:
    """Draw ``doc``: ``fmt`` is a name of :data:`FORMATS`; ``direction`` BT, TB, LR or RL.

    ``highlight``: IRIs (or prefixed names) drawn with a thick red border, never collapsed.
    ``link(iri)`` gives the URL a node points to (None: no link). ``expand``: group ids (from
    ``#expand=<id>`` links of summary nodes) to draw in full. ``by_observation``: the records
    of one OBS_ID are drawn as one node (labelled with its date, target, telescopes and IRFs)
    before the node cap applies. ``fold``: names of :data:`FOLDS`, applied in turn, instead
    (``("night", "observation")``: one node per night, and an expanded night shows its runs
    folded). ``flat``: :func:`read_facts` of ``doc``, when the caller has read it already (it is
    only read). Graphviz may run at most
    ``timeout`` seconds (and never more than :data:`DOT_TIMEOUT`). Raises InvalidParameter,
    QueryTimeout (Graphviz ran out of time: the picture is too large to draw), RenderError.
    """
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise InvalidParameter(f"picture format {fmt!r} is not one of " + ", ".join(FORMATS), where="format")
    source = to_dot(
        doc,
        direction=direction,
        node_cap=node_cap,
        highlight=highlight,
        link=link,
        expand=expand,
        by_observation=by_observation,
        fold=fold,
        flat=flat,
    ).encode("utf-8")
    if fmt == "dot":
        return source
    return run_dot(source, fmt, timeout)


def run_dot(source: bytes, fmt: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """Lay out DOT text with the Graphviz ``dot`` binary, for at most ``timeout`` seconds."""
    exe = shutil.which("dot")
    if exe is None:
        raise RenderError("the Graphviz 'dot' program is not installed (apt-get install graphviz)", where="render")
    timeout = min(timeout, DOT_TIMEOUT)
    try:
        done = subprocess.run([exe, "-T" + fmt], input=source, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise QueryTimeout(
            f"Graphviz did not finish drawing this picture in {timeout:.3g} s; ask for a smaller DEPTH, or for PROV-JSON",
            where="RESPONSEFORMAT",
        ) from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise RenderError(f"Graphviz failed: {message}", where="render")
    return done.stdout


__all__ = [
    "render",
    "to_dot",
    "FOLDS",
    "run_dot",
    "SVG_CSP",
    "FORMATS",
    "DIRECTIONS",
    "RenderError",
    "read_facts",
    "Flat",
    "Element",
    "Link",
    "data_level",
    "obs_id",
    "version",
    "title",
    "noun",
    "plural",
    "ivoa_class",
    "prov_types",
    "is_irf",
    "time_of",
    "text_of",
    "safe_link",
]
