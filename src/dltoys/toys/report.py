"""The tour's report: report.md, a self-contained report.html and the terminal summary."""

from __future__ import annotations

import base64
import html
import platform
from pathlib import Path
from typing import Sequence

import numpy as np

from .. import __version__
from .base import Report, md_row


def summary_rows(reports: Sequence[Report]) -> list[list[str]]:
    rows = []
    for report in reports:
        targets = report.targets or []
        first = True
        for target in targets:
            rows.append([
                report.toy if first else "",
                target.name,
                target.value_text,
                target.goal_text,
                "pass" if target.passed else "FAIL",
                f"{report.seconds:.1f} s" if first else "",
            ])
            first = False
        if not targets:
            rows.append([report.toy, report.skipped or "-", "-", "-", report.status, f"{report.seconds:.1f} s"])
    return rows


HEADERS = ["toy", "figure", "reached", "target", "result", "time"]


def summary_text(reports: Sequence[Report]) -> str:
    """A plain-text table for the terminal."""
    rows = [HEADERS] + summary_rows(reports)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    passed = sum(r.passed and not r.skipped for r in reports)
    skipped = sum(bool(r.skipped) for r in reports)
    total_time = sum(r.seconds for r in reports)
    lines.append(f"{passed}/{len(reports) - skipped} toys reached their targets in {total_time:.0f} s"
                 + (f" ({skipped} skipped: no data)" if skipped else ""))
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
th{background:#f3f3f3}.pass{color:#067d3a;font-weight:600}.fail{color:#b00020;font-weight:700}
section{border-top:2px solid #eee;margin-top:2em}img{max-width:100%;border:1px solid #eee;margin:0.5em 0}
blockquote{border-left:4px solid #ddd;margin:0.5em 0;padding:0.2em 1em;color:#444}.env{color:#666}
"""


def write_html(reports: Sequence[Report], out_dir: Path, title: str) -> Path:
    """One HTML file with every plot embedded (base64), readable without the run directories."""
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1>",
             f"<p class='env'>{esc(_environment())}</p>", "<table><tr>"]
    parts += [f"<th>{esc(h)}</th>" for h in HEADERS] + ["</tr>"]
    for row in summary_rows(reports):
        cls = "pass" if row[4] == "pass" else "fail"
        cells = [f"<td>{esc(c)}</td>" for c in row]
        cells[4] = f"<td class='{cls}'>{esc(row[4])}</td>"
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</table>")
    for report in reports:
        status = "skipped" if report.skipped else ("pass" if report.passed else "fail")
        parts.append(f"<section id='{esc(report.toy)}'><h2>{esc(report.title)} (<code>{esc(report.toy)}</code>) "
                     f"<span class='{status}'>{status.upper()}</span>, {report.seconds:.1f} s</h2>")
        parts.append(f"<p>{esc(report.shows)}</p>")
        if report.targets:
            parts.append("<table><tr><th>figure</th><th>reached</th><th>target</th><th></th></tr>")
            for t in report.targets:
                cls = "pass" if t.passed else "fail"
                parts.append(f"<tr><td>{esc(t.name)}</td><td>{esc(t.value_text)}</td><td>{esc(t.goal_text)}</td>"
                             f"<td class='{cls}'>{'pass' if t.passed else 'FAIL'}</td></tr>")
            parts.append("</table>")
        for table in report.tables:
            parts.append(f"<p><b>{esc(table.title)}</b></p><table><tr>"
                         + "".join(f"<th>{esc(str(h))}</th>" for h in table.headers) + "</tr>")
            for row in table.rows:
                parts.append("<tr>" + "".join(
                    f"<td>{esc(f'{c:.4g}' if isinstance(c, float) else str(c))}</td>" for c in row) + "</tr>")
            parts.append("</table>")
        for note in report.notes:
            parts.append(f"<blockquote>{esc(note)}</blockquote>")
        for plot in report.plots:
            path = Path(report.run_dir) / plot
            if path.exists():
                data = base64.b64encode(path.read_bytes()).decode("ascii")
                parts.append(f"<div><img alt='{esc(plot)}' src='data:image/png;base64,{data}'></div>")
        parts.append("</section>")
    parts.append("</body></html>")
    path = Path(out_dir) / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
