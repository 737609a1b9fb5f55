"""The page: HTML and CSS around the panels, plotly.js inlined once, written atomically.

The page needs no network: there is no web font, CDN stylesheet or external script.
"""

import datetime
import html
from collections.abc import Sequence
from pathlib import Path

from dagster_project.lib.storage import write_atomic
from dagster_project.serving.report.common import FONT, Panel
from dagster_project.serving.report.panels import ServingInfo

PAGE_TITLE = "Rare-earth supply risk"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = f"""
body {{ font-family: {FONT}; margin: 0; color: #1d2433; background: #f6f7f9; }}
header, main, footer {{ max-width: 1180px; margin: 0 auto; padding: 0 20px; }}
header {{ padding-top: 24px; }}
h1 {{ font-size: 1.6rem; margin: 0 0 6px; }}
h2 {{ font-size: 1.15rem; margin: 0 0 10px; }}
.meta {{ color: #4a5468; font-size: 0.9rem; margin: 2px 0; }}
nav ul {{ padding-left: 18px; margin: 10px 0 0; }}
section.chart {{ background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 16px 18px;
  margin: 18px 0; }}
.caption {{ color: #4a5468; font-size: 0.85rem; margin: 10px 0 0; line-height: 1.45; }}
.no-data {{ border: 1px dashed #b9c0cc; background: #fafbfc; color: #7a2e0e; padding: 28px 20px;
  border-radius: 4px; font-size: 0.95rem; }}
footer {{ color: #6b7385; font-size: 0.8rem; padding-bottom: 30px; }}
code {{ font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_html(info: ServingInfo, panels: Sequence[Panel], generated_at: datetime.datetime) -> str:
    """The whole page; plotly.js is inlined once, with the first figure."""
    sections = []
    plotly_included = False
    for panel in panels:
        if panel.figure is not None:
            body = panel.figure.to_html(
                full_html=False,
                include_plotlyjs=not plotly_included,
                div_id=f"chart-{panel.key}",
                config=PLOTLY_CONFIG,
            )
            plotly_included = True
        else:
            body = (
                f'<div class="no-data" role="status" data-chart="{_esc(panel.key)}">'
                f"<strong>no data:</strong> {_esc(panel.no_data)}</div>"
            )
        sections.append(
            f'<section class="chart" id="{_esc(panel.key)}">\n<h2>{_esc(panel.title)}</h2>\n{body}\n'
            f'<p class="caption">{_esc(panel.caption)}</p>\n</section>'
        )
    published = f"{info.published_at:%Y-%m-%d %H:%M} UTC" if info.published_at else "unknown"
    loads = "; ".join(
        f"{source}: {files} file{'s' if files != 1 else ''}"
        + (f", latest {latest:%Y-%m-%d %H:%M}" if latest else "")
        for source, files, latest in info.loads
    )
    toc = "".join(f'<li><a href="#{_esc(p.key)}">{_esc(p.title)}</a></li>' for p in panels)
    rendered = sum(1 for p in panels if p.figure is not None)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(PAGE_TITLE)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{_esc(PAGE_TITLE)}</h1>
<p class="meta">Generated {generated_at:%Y-%m-%d %H:%M} UTC from <code>{_esc(info.path)}</code>
(published {_esc(published)}); {rendered} of {len(panels)} charts have data.</p>
<p class="meta">Loads in audit.load_log: {_esc(loads or "none recorded")}.</p>
<nav><ul>{toc}</ul></nav>
</header>
<main>
{chr(10).join(sections)}
</main>
<footer><p>Figures are declared customs statistics and benchmark price assessments as published in the
serving file; see docs/bi.md for the marts and their columns. This page works offline.</p></footer>
</body>
</html>
"""


def write_page(
    path: Path, info: ServingInfo, panels: Sequence[Panel], generated_at: datetime.datetime
) -> None:
    """Render the page and put it at `path` in one atomic step (a reader sees the old page or the
    new one, never half of one)."""
    write_atomic(path, render_html(info, panels, generated_at))
