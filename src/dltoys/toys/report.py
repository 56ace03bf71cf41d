"""Reports of runs and tours: report.md, a self-contained report.html and the terminal summary."""

from __future__ import annotations

import base64
import textwrap
import html
import platform
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from .base import FAILED, INTERRUPTED, Report, md_row


def summary_rows(reports: Sequence[Report]) -> list[list[str]]:
    """One row per target: toy, figure, reached, target, result, time (toy and time on the first row only)."""
    rows = []
    for report in reports:
        seconds = f"{report.seconds:.1f} s"
        if report.status in (FAILED, INTERRUPTED):  # what it was doing when it stopped, instead of the targets
            first_clause = re.split(r"(?<=[;.])\s", report.error or "-", maxsplit=1)[0].rstrip(";")
            rows.append([report.toy, first_clause, "-", "-", report.verdict, seconds])
            continue
        targets = report.targets or []
        for index, target in enumerate(targets):
            rows.append([report.toy if index == 0 else "", target.name, target.value_text, target.goal_text,
                         target.verdict, seconds if index == 0 else ""])
        if not targets:
            rows.append([report.toy, report.skipped or "-", "-", "-", report.verdict, seconds])
    return rows


HEADERS = ["toy", "figure", "reached", "target", "result", "time"]
FIGURE_COLUMN = HEADERS.index("figure")


def summary_text(reports: Sequence[Report], width: int = 100) -> str:
    """A plain-text table for the terminal, at most ``width`` columns: the figure names wrap."""
    rows = [HEADERS] + summary_rows(reports)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    gap = 2
    others = sum(w for i, w in enumerate(widths) if i != FIGURE_COLUMN) + gap * (len(HEADERS) - 1)
    widths[FIGURE_COLUMN] = max(16, min(widths[FIGURE_COLUMN], width - others))
    lines = []
    for index, row in enumerate(rows):
        wrapped = textwrap.wrap(row[FIGURE_COLUMN], widths[FIGURE_COLUMN]) or [""]
        for line_index, figure in enumerate(wrapped):
            cells = list(row) if line_index == 0 else [""] * len(row)
            cells[FIGURE_COLUMN] = figure
            lines.append((" " * gap).join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip())
        if index == 0:
            lines.append((" " * gap).join("-" * w for w in widths))
    passed = sum(r.passed and not r.skipped for r in reports)
    skipped = sum(bool(r.skipped) for r in reports)
    total_time = sum(r.seconds for r in reports)
    lines.append(f"{passed}/{len(reports) - skipped} toys reached their targets in {total_time:.0f} s"
                 + (f" ({skipped} skipped: no data)" if skipped else ""))
    unfinished = [f"{r.toy} {r.verdict}" for r in reports if r.status in (FAILED, INTERRUPTED)]
    if unfinished:
        lines.append("did not finish: " + ", ".join(unfinished))
    return "\n".join(lines)


def _environment() -> str:
    return (
        f"dltoys {__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()} {platform.system()}"
    )


def write_markdown(reports: Sequence[Report], out_dir: Path, title: str) -> Path:
    lines = [f"# {title}", "", _environment(), "", md_row(HEADERS), "|" + "---|" * len(HEADERS)]
    for row in summary_rows(reports):
        lines.append(md_row(row))
    lines.append("")
    for report in reports:
        prefix = f"{Path(report.run_dir).name}/" if report.run_dir else ""
        lines += [report.to_markdown(image_prefix=prefix), ""]
    path = Path(out_dir) / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.8em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}
th{background:#f3f3f3}.pass{color:#067d3a;font-weight:600}.fail{color:#b00020;font-weight:700}.skipped{color:#666;font-weight:600}
section{border-top:2px solid #eee;margin-top:2em}.env{color:#666}
blockquote{border-left:4px solid #ddd;margin:0.5em 0;padding:0.2em 1em;color:#444}
td.n{white-space:nowrap}section td{white-space:pre-wrap}
.fig{overflow-x:auto}.fig img{max-width:100%;border:1px solid #eee;margin:0.5em 0;cursor:zoom-in}
.fig img.full{max-width:none;cursor:zoom-out}
"""


def _cell_html(cell: object) -> str:
    """A table cell for HTML: spaces kept (the CSS has ``white-space: pre-wrap``), and text marked
    with ⏎ for its newlines (charlm's samples) broken there again, so code reads as code."""
    text = f"{cell:.4g}" if isinstance(cell, float) else str(cell)
    return html.escape(text).replace("⏎", "⏎\n")


def write_html(reports: Sequence[Report], out_dir: Path, title: str) -> Path:
    """One HTML file with every plot embedded (base64), readable without the run directories."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
             f"<p class='env'>{esc(_environment())}</p>", "<table><tr>"]
    parts += [f"<th>{esc(h)}</th>" for h in HEADERS] + ["</tr>"]
    for row in summary_rows(reports):
        cls = {"pass": "pass", "PASS": "pass", "SKIPPED": "skipped"}.get(row[4], "fail")
        cells = [f"<td>{esc(c)}</td>" for c in row]
        if row[0]:  # the toy's name links to its section below
            cells[0] = f"<td><a href='#{esc(row[0])}'>{esc(row[0])}</a></td>"
        for index in (2, 3, 5):  # "≥ 100.0%" and "12.3 s" must not break over two lines
            cells[index] = f"<td class='n'>{esc(row[index])}</td>"
        cells[4] = f"<td class='{cls} n'>{esc(row[4])}</td>"
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    parts.append("<p class='env'>Click a figure to see it at full size (click again to fit it).</p>")
    for report in reports:
        status = "skipped" if report.skipped else ("pass" if report.passed else "fail")
        parts.append(f"<section id='{esc(report.toy)}'><h2>{esc(report.title)} (<code>{esc(report.toy)}</code>) "
                     f"<span class='{status}'>{esc(report.verdict)}</span>, {report.seconds:.1f} s</h2>")
        parts.append(f"<p>{esc(report.shows)}</p>")
        if report.error:
            parts.append(f"<p><b class='fail'>{esc(report.verdict)}</b>: {esc(report.error)}</p>")
        if report.targets:
            parts.append("<table><tr><th>figure</th><th>reached</th><th>target</th><th></th></tr>")
            for t in report.targets:
                cls = "pass" if t.passed else "fail"
                parts.append(f"<tr><td>{esc(t.name)}</td><td class='n'>{esc(t.value_text)}</td>"
                             f"<td class='n'>{esc(t.goal_text)}</td><td class='{cls} n'>{esc(t.verdict)}</td></tr>")
            parts.append("</table>")
        for table in report.tables:
            parts.append(f"<p><b>{esc(table.title)}</b></p><table><tr>"
                         + "".join(f"<th>{esc(str(h))}</th>" for h in table.headers) + "</tr>")
            for row in table.rows:
                parts.append("<tr>" + "".join(f"<td>{_cell_html(c)}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        for note in report.notes:
            parts.append(f"<blockquote>{esc(note)}</blockquote>")
        for plot in report.plots:
            path = Path(report.run_dir) / plot
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                parts.append(f"<div class='fig'><img alt='{esc(plot)}' title='click to enlarge' "
                             "onclick=\"this.classList.toggle('full')\" "
                             f"src='data:image/png;base64,{data}'></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    path = Path(out_dir) / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
