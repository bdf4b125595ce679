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


def render(title: str, sections: list[Section], meta: dict[str, str]) -> str:
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    meta_line = " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in meta.items())
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<div class='meta'>{meta_line} · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</div>",
        f"<nav>{nav}</nav>",
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
