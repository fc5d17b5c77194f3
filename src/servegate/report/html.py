"""A report people want to look at: one self-contained HTML file with a summary, the exposure path of every
model-serving workload as a picture, the findings by file with the source lines they point at, and the fix
for each rule.

It is meant to be opened anywhere (a CI artifact, an attachment): the CSS and the filtering script are
inlined from ``assets/``, the pictures are inline SVG laid out here, nothing is fetched, and a
Content-Security-Policy with the hashes of the inline style and script forbids everything else. Source
excerpts are read from the scanned files when the report is rendered; secret values on the lines of secret
findings, credentials in URIs and well-known token shapes are masked, so the report can be shared where the
scan output can.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter, defaultdict
from html import escape
from importlib import resources
from itertools import groupby
from pathlib import Path

from servegate import __version__
from servegate.findings import Finding, Fix, Severity
from servegate.report.exposure import STAGE_TITLES, STAGES, Link, Node, Picture, pictures
from servegate.report.json_report import summary
from servegate.rules import BY_ID
from servegate.rules.base import Rule
from servegate.rules.secrets import SHAPES
from servegate.scan import ScanResult

CONTEXT_LINES = 2  # source lines shown before and after a finding's region
MAX_REGION_LINES = 8  # a longer region (a whole block) is cut after this many lines
MAX_SOURCE_BYTES = 5 * 1024 * 1024  # larger files get no excerpt (the scan reads up to 20 MiB)
SEVERITIES = tuple(reversed(Severity))  # critical first
SECRET_RULE_PREFIX = "MLS-SEC"  # the catalogue's secrets group: its findings sit on lines holding secrets
URI_CREDENTIALS = re.compile(r"://[^/@\s]+@")
ASSIGNMENT = re.compile(r"""^(\s*(?:-\s+)?(?:[\w.\-"'/]+\s*[:=]\s*|--?[\w-]+[= ]))(.+)$""")
LIST_ITEM = re.compile(r"^(\s*-\s+)(.+)$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")


def render(result: ScanResult, show_suppressed: bool = False) -> str:
    findings = [f for f in result.findings if show_suppressed or not f.suppressed]
    rules = {rule.id: rule for rule in (*BY_ID.values(), *result.rules)}
    sources = _Sources(result)
    drawn, problems = pictures(result)
    style, script = _asset("report.css"), _asset("report.js")
    body = "\n".join((
        _header(result),
        _summary(result, findings, rules),
        _filters(findings, rules),
        _paths(drawn, problems),
        _findings(findings, rules, sources),
        _rule_cards(findings, rules),
        _problems(result),
    ))
    title = f"servegate report: {result.root.name or result.root}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src '{_hash(style)}'; "
        f"script-src '{_hash(script)}'; base-uri 'none'; form-action 'none'\">\n"
        f"<meta name=\"generator\" content=\"servegate {__version__}\">\n<title>{escape(title)}</title>\n"
        f"<style>{style}</style>\n</head>\n<body>\n{_ARROWS}\n<main>\n{body}\n</main>\n"
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def _asset(name: str) -> str:
    return resources.files("servegate.report").joinpath("assets", name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _family(finding: Finding, rules: dict[str, Rule]) -> str:
    rule = rules.get(finding.rule_id)
    return rule.family if rule is not None else "other"


def _inline(text: str) -> str:
    """Escaped prose, with `backticked` words as code."""
    return CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_inline(' '.join(block.split()))}</p>" for block in text.split("\n\n") if block.strip())


def _gist(text: str, limit: int = 240) -> str:
    """The first sentence of a remediation; the rule card below has all of it."""
    text = " ".join(text.split())
    end = text.find(". ")
    sentence = text[: end + 1] if 0 < end < limit else text
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _badge(severity: Severity) -> str:
    return f'<span class="badge sev-{severity.label}">{severity.label}</span>'


# -- header and summary ---------------------------------------------------------------------------------
def _header(result: ScanResult) -> str:
    stats = summary(result)
    facts = [f"{stats['files_scanned']} files", f"{stats['objects']} objects", f"{stats['rules']} rules"]
    if stats["suppressed"]:
        facts.append(f"{stats['suppressed']} suppressed")
    if result.errors:
        facts.append(f'<a href="#problems">{len(result.errors)} input errors</a>')
    return (f'<header class="top"><h1>servegate report</h1><p class="meta">Scanned <code>'
            f'{escape(result.root.name or str(result.root))}</code>: {" · ".join(facts)} · servegate {__version__}'
            f'</p><nav><a href="#summary">Summary</a><a href="#paths">Exposure paths</a>'
            f'<a href="#findings">Findings</a><a href="#rules">Rules and fixes</a>'
            f'<a href="#problems">Inputs</a></nav></header>')


def _summary(result: ScanResult, findings: list[Finding], rules: dict[str, Rule]) -> str:
    counts = Counter(f.severity for f in findings)
    cards = "".join(
        f'<button type="button" class="card sev-{s.label}" data-only-severity="{s.label}">'
        f'<span class="n">{counts.get(s, 0)}</span><span class="label">{s.label}</span></button>'
        for s in SEVERITIES)
    by_family: dict[str, Counter] = defaultdict(Counter)
    for finding in findings:
        by_family[_family(finding, rules)][finding.severity] += 1
    head = "".join(f'<th scope="col" class="sev-{s.label}">{s.label}</th>' for s in SEVERITIES)
    rows = []
    for family, row in sorted(by_family.items(), key=lambda item: (-item[1].total(), item[0])):
        cells = "".join('<td class="zero">0</td>' if not row.get(s) else f"<td>{row[s]}</td>" for s in SEVERITIES)
        rows.append(f'<tr data-family="{escape(family)}"><th scope="row"><button type="button" class="linkish" '
                    f'data-only-family="{escape(family)}">{escape(family)}</button></th>{cells}'
                    f'<td class="total">{row.total()}</td></tr>')
    table = (f'<table class="families"><caption>Findings by rule family</caption><thead><tr><th scope="col">'
             f'family</th>{head}<th scope="col">total</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
             if rows else '<p class="empty">No findings.</p>')
    shown = len(findings)
    verdict = f"{shown or 'No'} finding{'s' if shown != 1 else ''} in {result.files_scanned} files."
    return (f'<section id="summary"><h2>Summary</h2><p class="verdict">{verdict}</p><div class="cards">{cards}</div>'
            f'{table}</section>')


def _filters(findings: list[Finding], rules: dict[str, Rule]) -> str:
    counts = Counter(f.severity for f in findings)
    boxes = "".join(
        f'<label class="sev-toggle sev-{s.label}"><input type="checkbox" name="severity" value="{s.label}" checked>'
        f' {s.label} <span class="n">{counts.get(s, 0)}</span></label>' for s in SEVERITIES)
    families = sorted({_family(f, rules) for f in findings})
    options = "".join(f'<option value="{escape(f)}">{escape(f)}</option>' for f in families)
    return (f'<form id="filters" class="filters" role="search" aria-label="Filter findings">'
            f'<fieldset><legend>Severity</legend>{boxes}</fieldset>'
            f'<label>Rule family <select name="family"><option value="">all families</option>{options}</select>'
            f'</label><label>Search <input type="search" name="q" placeholder="rule, file, resource or text"'
            f' autocomplete="off"></label><button type="reset">Show all</button>'
            f'<output id="shown" aria-live="polite">{len(findings)} of {len(findings)} findings shown</output>'
            f'</form>')


# -- exposure pictures ----------------------------------------------------------------------------------
NODE_WIDTH, NODE_HEIGHT, COLUMN_GAP, ROW_GAP, MARGIN, LANE = 184, 48, 60, 18, 12, 22
NAME_CHARS, KIND_CHARS = 25, 30

_ARROWS = (
    '<svg class="defs" aria-hidden="true" width="0" height="0"><defs>'
    + "".join(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
              f'markerWidth="11" markerHeight="11" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
              f'class="arrow sev-{name}"/></marker>'
              for name in (*(s.label for s in SEVERITIES), "none"))
    + "</defs></svg>"
)


def _paths(drawn: list[Picture], problems: list[str]) -> str:
    legend = "".join(f'<li><span class="swatch stage-{stage}"></span>{escape(STAGE_TITLES[stage])}</li>'
                     for stage in STAGES)
    intro = ('<p class="hint">Each picture follows one model-serving workload from the internet through ingresses '
             'and Services to the model server, then to the identity it runs as and the artifact stores that '
             'identity reaches. A coloured edge is backed by findings (hover it for the rules); thick edges carry a '
             'high or critical finding; a dashed edge comes from a finding rather than from the manifests. Click a '
             'box to list its findings.</p>')
    notes = "".join(f'<p class="empty">{"No exposure paths: " if not drawn else ""}{escape(problem)}.</p>'
                    for problem in problems)
    body = notes
    if drawn:
        body += ('<div class="pictures">' + "".join(_figure(p, i) for i, p in enumerate(drawn, start=1)) + "</div>"
                 '<p class="empty" id="no-paths" hidden>No exposure path matches the search.</p>')
    return (f'<section id="paths"><h2>Exposure paths</h2>{intro}<ul class="legend">{legend}</ul>{body}'
            f'</section>')


def _layers(picture: Picture) -> dict[str, int]:
    """Left-to-right columns with the model servers in one column: a node on the way in sits as many columns
    left of them as its longest way to a server is long; a node behind a server, as many columns right as its
    longest way from one."""
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    for source, target in picture.links:
        forward[source].append(target)
        backward[target].append(source)
    servers = [key for key, node in picture.nodes.items() if node.stage == "server"]

    def distances(starts: list[str], step: dict[str, list[str]]) -> dict[str, int]:
        found = dict.fromkeys(starts, 0)
        frontier = list(starts)
        for _ in range(len(picture.nodes)):  # longest paths in a DAG settle within as many rounds as nodes
            following = []
            for key in frontier:
                for neighbour in step[key]:
                    if picture.nodes[neighbour].stage != "server" and found.get(neighbour, -1) < found[key] + 1:
                        found[neighbour] = found[key] + 1
                        following.append(neighbour)
            if not following:
                break
            frontier = following
        return found

    upstream, downstream = distances(servers, backward), distances(servers, forward)
    left = max((d for key, d in upstream.items() if key not in servers), default=0)
    return {key: left - upstream[key] if key in upstream else left + downstream.get(key, 0) for key in picture.nodes}


def _layout(picture: Picture) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Node positions (top-left corners) and the drawing's size. Columns are centred vertically; within a
    column, nodes are ordered by the mean height of their predecessors (one sweep of the barycentre
    heuristic), so edges cross little."""
    columns: dict[int, list[str]] = defaultdict(list)
    layer = _layers(picture)
    for key, column in layer.items():
        columns[column].append(key)
    preds: dict[str, list[str]] = defaultdict(list)
    for source, target in picture.links:
        preds[target].append(source)
    tallest = max(len(keys) for keys in columns.values())
    spans = [layer[target] - layer[source] for source, target in picture.links]
    lane = LANE if any(span > 1 for span in spans) else 0  # room above the nodes for edges that skip columns
    height = MARGIN * 2 + lane + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP
    width = MARGIN * 2 + (max(columns) + 1) * NODE_WIDTH + max(columns) * COLUMN_GAP
    positions: dict[str, tuple[float, float]] = {}

    def barycentre(key: str) -> float:
        placed = [positions[p][1] for p in preds[key] if p in positions]
        return sum(placed) / len(placed) if placed else 0.0

    for column in sorted(columns):
        keys = sorted(columns[column], key=lambda k: (barycentre(k), STAGES.index(picture.nodes[k].stage), k))
        top = lane + (height - lane - (len(keys) * NODE_HEIGHT + (len(keys) - 1) * ROW_GAP)) / 2
        for index, key in enumerate(keys):
            positions[key] = (MARGIN + column * (NODE_WIDTH + COLUMN_GAP), top + index * (NODE_HEIGHT + ROW_GAP))
    return positions, width, height


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    """An edge from the right side of one box to the left side of another; one that skips columns rises to
    the lane above the boxes and runs along it, so it never passes behind a box."""
    if x2 - x1 <= COLUMN_GAP + 1:
        bend = COLUMN_GAP / 2
        return f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}"
    lane, bend = MARGIN + LANE / 2, COLUMN_GAP / 2
    return (f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x1 + bend:.0f},{lane:.0f} {x1 + COLUMN_GAP:.0f},"
            f"{lane:.0f} L{x2 - COLUMN_GAP:.0f},{lane:.0f} C{x2 - bend:.0f},{lane:.0f} {x2 - bend:.0f},{y2:.0f} "
            f"{x2 - 2:.0f},{y2:.0f}")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _figure(picture: Picture, number: int) -> str:
    positions, width, height = _layout(picture)
    edges = "".join(_edge_svg(picture, positions, key, link) for key, link in picture.links.items())
    boxes = "".join(_node_svg(node, *positions[key]) for key, node in picture.nodes.items())
    worst = picture.severity
    text = " ".join(sorted({r.lower() for n in picture.nodes.values() for r in n.refs} | {picture.workload.lower()}))
    caption = (f'{_badge(worst) if worst is not None else ""} <strong>{escape(picture.workload)}</strong>'
               + (' <span class="tag exposed">reachable from the internet</span>' if picture.exposed else ""))
    label = f"Exposure path of {picture.workload}"
    return (f'<figure class="exposure" id="path-{number}" data-workload="{escape(picture.workload)}" '
            f'data-text="{escape(text)}"><figcaption>{caption}</figcaption><div class="scroll">'
            f'<svg class="graph" role="img" aria-label="{escape(label)}" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}">{edges}{boxes}</svg></div></figure>')


def _edge_svg(picture: Picture, positions: dict[str, tuple[float, float]], key: tuple[str, str], link: Link) -> str:
    """One edge, coloured by its worst finding (grey without one), thick when that is high or critical,
    dashed when only a finding reported it; its tooltip names the relation and the findings."""
    source, target = key
    (x1, y1), (x2, y2) = positions[source], positions[target]
    severity = link.severity
    level = severity.label if severity is not None else "none"
    classes = ["link", f"sev-{level}"] + (["risky"] if severity is not None and severity >= Severity.HIGH else [])
    classes += ["reported"] if link.reported else []
    rules = ", ".join(f"{f.rule_id} ({f.severity.label})" for f in link.findings)
    tip = f"{picture.nodes[source].name} {link.relation} {picture.nodes[target].name}"
    tip += "".join(f"; {note}" for note in link.notes) + (f"\nfindings: {rules}" if rules else "")
    tip += "\n(reported by a finding; not traced in the manifests)" if link.reported else ""
    curve = _curve(x1 + NODE_WIDTH, y1 + NODE_HEIGHT / 2, x2, y2 + NODE_HEIGHT / 2)
    return (f'<path class="{" ".join(classes)}" data-source="{escape(source)}" data-target="{escape(target)}" '
            f'data-severity="{level}" d="{curve}" marker-end="url(#arrow-{level})"><title>{escape(tip)}</title>'
            f'</path>')


def _node_svg(node: Node, x: float, y: float) -> str:
    """One box: its kind above its name, framed in the colour of its worst finding; a box with findings is a
    button that lists them."""
    level = node.severity.label if node.severity is not None else "none"
    search = min(node.refs) if node.findings else ""
    tip = f"{node.kind} {node.name}".strip() + (f"\n{node.findings} findings, worst {level}" if node.findings else "")
    button = f' data-search="{escape(search)}" tabindex="0" role="button"' if search else ""
    kind = _short(node.kind or STAGE_TITLES[node.stage], KIND_CHARS)
    return (f'<g class="node stage-{node.stage} sev-{level}" data-key="{escape(node.key)}" data-stage="{node.stage}"'
            f'{button}><title>{escape(tip)}</title><rect x="{x:.0f}" y="{y:.0f}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="7"/><text x="{x + 10:.0f}" y="{y + 18:.0f}" class="kind">{escape(kind)}'
            f'</text><text x="{x + 10:.0f}" y="{y + 36:.0f}" class="name">{escape(_short(node.name, NAME_CHARS))}'
            f'</text></g>')


# -- findings by file -----------------------------------------------------------------------------------
class _Sources:
    """The scanned files' lines, read once each, with secrets masked."""

    def __init__(self, result: ScanResult) -> None:
        self.root = result.root
        self.lines: dict[str, list[str] | None] = {}
        self.secrets: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)  # (file, line): columns
        for finding in result.findings:  # suppressed ones too: their lines hold secrets all the same
            if finding.rule_id.startswith(SECRET_RULE_PREFIX):
                loc = finding.location
                for number in range(loc.line, loc.end_line + 1):
                    start = loc.column if number == loc.line else 1
                    end = loc.end_column if number == loc.end_line and loc.end_column > start else 0
                    self.secrets[(loc.file, number)].append((start, end))

    def _read(self, file: str) -> list[str] | None:
        if file not in self.lines:
            self.lines[file] = None
            # Displays are relative to the scan root, or as given when a path lay outside it.
            for path in (self.root / file, Path(file)):
                try:
                    if path.is_file() and path.stat().st_size <= MAX_SOURCE_BYTES:
                        self.lines[file] = path.read_bytes().decode("utf-8-sig", errors="replace").splitlines()
                        break
                except OSError:
                    continue
        return self.lines[file]

    def excerpt(self, finding: Finding) -> str:
        loc = finding.location
        lines = self._read(loc.file)
        if not lines or loc.line < 1 or loc.line > len(lines):
            return '<p class="no-source">Source not available.</p>'
        region_end = min(loc.end_line, loc.line + MAX_REGION_LINES - 1)
        first, last = max(1, loc.line - CONTEXT_LINES), min(len(lines), region_end + CONTEXT_LINES)
        rows = []
        for number in range(first, last + 1):
            text = self._masked(loc.file, number, lines[number - 1])
            hit = " hit" if loc.line <= number <= region_end else ""
            rows.append(f'<span class="line{hit}"><span class="ln">{number}</span>{escape(text) or " "}</span>')
        return f'<pre class="excerpt"><code>{"".join(rows)}</code></pre>'

    def patch(self, fix: Fix) -> str:
        """A fix's edits as a small diff: the whole lines an edit touches, before and after; an insertion
        at the start of a line shows the inserted lines and the line they go before."""
        rows = []
        for edit in fix.edits:
            lines = self._read(edit.file) or []
            rows.append(f'<span class="hunk">@@ {escape(edit.file)}:{edit.line}</span>')
            inserted = (edit.line, edit.column) == (edit.end_line, edit.end_column) and edit.column == 1
            if inserted or not 1 <= edit.line <= edit.end_line <= len(lines):
                rows += [f'<span class="add">+ {escape(_unshaped(t))}</span>' for t in edit.text.splitlines()]
                if inserted and edit.line <= len(lines):
                    rows.append(f'<span>  {escape(self._masked(edit.file, edit.line, lines[edit.line - 1]))}</span>')
                continue
            before = lines[edit.line - 1: edit.end_line]
            after = before[0][: edit.column - 1] + edit.text + before[-1][max(0, edit.end_column - 1):]
            rows += [f'<span class="del">- {escape(self._masked(edit.file, n, t))}</span>'
                     for n, t in enumerate(before, start=edit.line)]
            rows += [f'<span class="add">+ {escape(_unshaped(t))}</span>' for t in after.splitlines()]
        return f'<pre class="patch"><code>{"".join(rows)}</code></pre>'

    def _masked(self, file: str, number: int, text: str) -> str:
        """The line with the regions of secret findings masked (keeping a key before the value), then
        credentials in URIs and token-shaped words anywhere."""
        for start, end in sorted(self.secrets.get((file, number), ()), reverse=True):
            end = end or len(text) + 1
            region = text[start - 1: end - 1]
            if region.strip():
                match = ASSIGNMENT.match(region) or LIST_ITEM.match(region)
                indent = region[: len(region) - len(region.lstrip())]
                region = match.group(1) + _mask(match.group(2)) if match else indent + _mask(region)
                text = text[: start - 1] + region + text[end - 1:]
        return _unshaped(text)


def _unshaped(text: str) -> str:
    """Credentials in URIs and token-shaped words masked."""
    text = URI_CREDENTIALS.sub("://…@", text)
    for pattern, _ in SHAPES:
        text = pattern.sub(lambda m: _mask(m.group(0)), text)
    return text


def _mask(value: str) -> str:
    """At most the first four characters of a secret, as the secret rules' messages show it."""
    value = value.strip().strip("'\"")
    return value[: min(4, len(value) // 2)] + "…"


def _findings(findings: list[Finding], rules: dict[str, Rule], sources: _Sources) -> str:
    if not findings:
        return '<section id="findings"><h2>Findings</h2><p class="empty">No findings.</p></section>'
    sections = []
    numbers = {id(f): i for i, f in enumerate(findings, start=1)}
    for file, group in groupby(sorted(findings, key=Finding.sort_key), key=lambda f: f.location.file):
        items = list(group)
        worst = max(f.severity for f in items)
        articles = "".join(_finding(f, numbers[id(f)], rules, sources) for f in items)
        sections.append(f'<section class="file" data-file="{escape(file)}"><h3>{_badge(worst)} <code>'
                        f'{escape(file)}</code> <span class="count">{len(items)}</span></h3>{articles}</section>')
    return f'<section id="findings"><h2>Findings by file</h2>{"".join(sections)}</section>'


def _finding(finding: Finding, number: int, rules: dict[str, Rule], sources: _Sources) -> str:
    loc = finding.location
    rule = rules.get(finding.rule_id)
    family = _family(finding, rules)
    searchable = " ".join((finding.rule_id, finding.title, finding.message, loc.file, finding.resource, loc.path,
                           family)).lower()
    related = "".join(f'<li><code>{escape(r.location.file)}:{r.location.line}</code> {_inline(r.message)}</li>'
                      for r in finding.related)
    suppressed = (f'<p class="suppressed-note">Suppressed ({escape(finding.suppression)}): '
                  f'{escape(finding.justification or "no reason given")}</p>' if finding.suppressed else "")
    fix = (f'<p class="fix"><strong>Fix:</strong> {_inline(_gist(rule.remediation))} '
           f'<a href="#rule-{escape(finding.rule_id)}">How to fix {escape(finding.rule_id)}</a></p>'
           if rule is not None and rule.remediation else "")
    patches = "".join(f'<details class="patch"><summary>Suggested patch ({patch.applicability.value}): '
                      f'{escape(patch.title)}</summary>{sources.patch(patch)}</details>' for patch in finding.fixes)
    where = f"{loc.file}:{loc.line}:{loc.column}"
    details = " · ".join(x for x in (escape(finding.resource), f"<code>{escape(loc.path)}</code>" if loc.path else "",
                                     f"confidence {finding.confidence.label}") if x)
    return (f'<article class="finding sev-{finding.severity.label}{" suppressed" if finding.suppressed else ""}" '
            f'id="finding-{number}" data-severity="{finding.severity.label}" data-family="{escape(family)}" '
            f'data-rule="{escape(finding.rule_id)}" data-text="{escape(searchable)}">'
            f'<header>{_badge(finding.severity)} <a class="rule" href="#rule-{escape(finding.rule_id)}">'
            f'{escape(finding.rule_id)}</a> <span class="title">{escape(finding.title)}</span> '
            f'<a class="where" href="#finding-{number}">{escape(where)}</a></header>'
            f'<p class="message">{_inline(finding.message)}</p><p class="details">{details}</p>{suppressed}'
            f'{sources.excerpt(finding)}'
            + (f'<ul class="related" aria-label="Related locations">{related}</ul>' if related else "")
            + f'{fix}{patches}</article>')


# -- rules and fixes ------------------------------------------------------------------------------------
def _rule_cards(findings: list[Finding], rules: dict[str, Rule]) -> str:
    counts = Counter(f.rule_id for f in findings)
    worst: dict[str, Severity] = {}
    for finding in findings:
        worst[finding.rule_id] = max(finding.severity, worst.get(finding.rule_id, Severity.INFO))
    cards = []
    for rule_id in sorted(counts, key=lambda r: (-worst[r], r)):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        good = f'<h4>Corrected</h4><pre class="snippet"><code>{escape(rule.good)}</code></pre>' if rule.good else ""
        refs = "".join(f"<li>{_reference(r)}</li>" for r in rule.references)
        cards.append(
            f'<article class="rule-card" id="rule-{escape(rule.id)}" data-rule="{escape(rule.id)}">'
            f'<h3>{_badge(rule.severity)} {escape(rule.id)} <span class="title">{escape(rule.title)}</span> '
            f'<span class="count">{counts[rule_id]} finding{"s" if counts[rule_id] != 1 else ""}</span></h3>'
            f'<p class="details">{escape(rule.family)} · <code>{escape(rule.name)}</code></p>'
            f'<h4>Why it matters</h4>{_paragraphs(rule.rationale)}<h4>How to fix it</h4>'
            f'{_paragraphs(rule.remediation)}{good}'
            + (f'<h4>References</h4><ul class="references">{refs}</ul>' if refs else "") + "</article>")
    body = "".join(cards) or '<p class="empty">No findings, so no fixes to suggest.</p>'
    return f'<section id="rules"><h2>Rules and fixes</h2>{body}</section>'


def _reference(text: str) -> str:
    match = re.search(r"https?://\S+", text)
    if match is None:
        return _inline(text)
    url = match.group(0).rstrip(").,")
    return (f'{_inline(text[: match.start()])}<a href="{escape(url)}" rel="noopener noreferrer">{escape(url)}</a>'
            f'{_inline(text[match.start() + len(url):])}')


# -- inputs ---------------------------------------------------------------------------------------------
def _problems(result: ScanResult) -> str:
    rows = []
    for label, items in (("error", result.errors), ("warning", result.warnings)):
        for item in items:
            where = f"{item.file}:{item.line}" if item.line else item.file
            rows.append(f'<li class="{label}"><strong>{label}</strong> <code>{escape(where)}</code> '
                        f'{escape(item.message)}</li>')
    rows += [f'<li class="skipped"><strong>skipped</strong> <code>{escape(s.file)}</code> {escape(s.reason)}</li>'
             for s in result.skipped]
    rows += [f'<li class="fixed"><strong>fixed</strong> <code>{escape(str(e.get("file", "")))}</code> '
             f'{escape(str(e.get("rule_id", "")))} {escape(str(e.get("message", "")))}</li>' for e in result.fixed]
    body = f'<ul class="problems">{"".join(rows)}</ul>' if rows else \
        '<p class="empty">Every input was read; nothing was skipped.</p>'
    return f'<section id="problems"><h2>Inputs</h2>{body}</section>'
