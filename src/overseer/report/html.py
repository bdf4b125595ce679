"""Render audit sections to one self-contained HTML file (figures inlined as base64 PNG)."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path

from overseer.report.sections import Section, Table

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-bottom: 1.5rem; }
section { border-top: 1px solid #ddd; padding: 1rem 0; }
.status { font-size: 0.8rem; padding: 0.1rem 0.5rem; border-radius: 0.6rem; margin-left: 0.5rem; }
.ok { background: #d9f2dd; } .skipped { background: #f4ecd0; } .failed { background: #f6d3d3; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f3f3f3; } caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5rem 0; }
nav a { margin-right: 1rem; } .summary { white-space: pre-wrap; }
.findings { background: #fafafa; border: 1px solid #ddd; border-radius: 0.4rem; padding: 0.6rem 1rem; margin: 1rem 0; }
.findings h2 { margin: 0.3rem 0 0.6rem; font-size: 1.25rem; }
.findings ol { padding-left: 1.4rem; margin: 0 0 0.8rem; } .findings li { margin: 0.25rem 0; }
.findings .status { margin: 0 0.4rem 0 0; }
table.claims { width: 100%; table-layout: fixed; } table.claims td { vertical-align: top; }
table.claims th:nth-child(1) { width: 17%; } table.claims th:nth-child(2) { width: 22%; }
table.claims th:nth-child(3) { width: 17%; } table.claims th:nth-child(4) { width: 19%; }
.verdict { font-weight: 600; white-space: nowrap; padding: 0.1rem 0.4rem; border-radius: 0.3rem; }
.reproduced { background: #d9f2dd; } .not-reproduced { background: #f6d3d3; }
.not-testable-here { background: #e8e8e8; }
.rule { color: #555; font-size: 0.8rem; }
"""


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in table.rows)
    return f"<table><caption>{html.escape(table.title)}</caption><tr>{head}</tr>{body}</table>"


def _figure(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(Path(path).name)}" src="data:image/png;base64,{data}">'


def _findings(sections: list[Section]) -> str:
    # The status pill says ok/skipped/failed, so the line drops finding()'s "skipped: " prefix.
    items = "".join(f"<li><span class='status {s.status}'>{s.status}</span><a href='#{s.key}'>"
                    f"{html.escape(s.title)}</a>: {html.escape(s.finding().removeprefix(s.status + ': '))}</li>"
                    for s in sections)
    claims = [(s, c) for s in sections for c in s.claims]
    out = f"<div class='findings' id='findings'><h2>Findings</h2><ol>{items}</ol>"
    if claims:
        head = "".join(f"<th>{h}</th>" for h in ("paper", "claim", "paper's figure", "measured here", "verdict"))
        rows = "".join(
            f"<tr><td>{html.escape(c.paper)}</td><td>{html.escape(c.claim)}"
            f"<div class='rule'>section: <a href='#{s.key}'>{html.escape(s.title)}</a></div></td>"
            f"<td>{html.escape(c.paper_figure)}</td><td>{html.escape(c.measured)}</td>"
            f"<td><span class='verdict {c.verdict.replace(' ', '-')}'>{html.escape(c.verdict)}</span>"
            f"<div class='rule'>rule: {html.escape(c.rule)}</div>"
            + (f"<div class='rule'>note: {html.escape(c.note)}</div>" if c.note else "") + "</td></tr>"
            for s, c in claims)
        out += (f"<table class='claims'><caption>Papers' claims tested by this audit</caption>"
                f"<tr>{head}</tr>{rows}</table>")
    return out + "</div>"


def _timing(sections: list[Section], timing: dict | None) -> str:
    """How long it took on this machine: one sentence, then each section's time and the total."""
    if not timing:
        return ""
    from overseer.report.timing import timing_table, total_line

    line = total_line(sections, timing["seconds"], timing["machine"], timing.get("quick", True))
    return (f"<div class='findings' id='timing'><h2>How long it took</h2><p>{html.escape(line)}</p>"
            f"{_table(timing_table(sections, timing['seconds'], timing.get('cpu_seconds')))}</div>")


def render(title: str, sections: list[Section], meta: dict[str, str], timing: dict | None = None) -> str:
    """`timing`: {"seconds": wall clock, "machine": timing.machine_info(), "quick": bool}, if measured."""
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    meta_line = " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in meta.items())
    if timing:
        from overseer.report.timing import duration

        meta_line += f" · took {duration(timing['seconds'])}"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<div class='meta'>{meta_line} · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</div>",
        f"<nav>{nav}</nav>",
        _findings(sections),
        _timing(sections, timing),
    ]
    for s in sections:
        parts.append(f"<section id='{s.key}'><h2>{html.escape(s.title)}"
                     f"<span class='status {s.status}'>{s.status}</span></h2>")
        if s.summary:
            parts.append(f"<p class='summary'>{html.escape(s.summary)}</p>")
        parts.extend(_table(t) for t in s.tables)
        parts.extend(_figure(f) for f in s.figures)
        parts.append(f"<p class='meta'>{s.seconds:.1f} s</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)
