"""Drawing with matplotlib, set up once for reproducible, self-contained pictures.

The sweep pictures and the docs site's charts are drawn here, so that every picture is made the
same way:

* no global state: each picture is a :class:`~matplotlib.figure.Figure` of its own (no pyplot),
  so drawing is safe in a server or a test run;
* reproducible files: SVG ids come from a fixed salt and no date is written into the file, so the
  same sweep or chart gives the same bytes;
* text stays text (``svg.fonttype: none``), so a browser can select it and a test can find it,
  and is never read as TeX: rulebook titles and amounts with ``$`` are shown as written;
* tooltips without JavaScript: an artist given an id (``gid``) can get an SVG ``<title>``,
  which browsers show on hover, offline.

matplotlib is imported only when a picture is drawn, so the other commands do not pay for it.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from xml.sax.saxutils import escape

#: The matplotlib settings every picture is drawn with.
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "policy-engine",
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

#: Colours for values that are absent or negative outcomes (no coverage, no result).
NONE_COLOUR = "#d9d9d9"
INELIGIBLE_COLOUR = "#f2b8b5"


@contextmanager
def style():
    """matplotlib's settings for the pictures, restored afterwards."""
    import matplotlib
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float, layout: str | None = "constrained"):
    """An empty figure ``width`` by ``height`` inches (call inside :func:`style`).

    ``layout=None`` places the axes by fixed margins (``figure.subplots_adjust``): several times
    faster to draw than the constrained layout, for small charts drawn by the dozen."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100, layout=layout)


def svg_of(figure) -> str:
    """The figure as SVG text, without a date, ids derived from the fixed salt."""
    buffer = io.StringIO()
    with style():
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def png_of(figure) -> bytes:
    """The figure as PNG bytes, without the software stamp (the same bytes for the same input)."""
    buffer = io.BytesIO()
    with style():
        figure.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    return buffer.getvalue()


def inline(svg: str) -> str:
    """SVG text to put inside an HTML page: without the XML declaration and DOCTYPE."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def add_titles(svg: str, titles: dict[str, str]) -> str:
    """Give each group ``<g id="GID">`` in ``svg`` a ``<title>`` child: a tooltip on hover.

    ``titles`` maps the gid given to an artist to its tooltip text (escaped here)."""
    def insert(match: re.Match) -> str:
        text = titles.get(match.group(1))
        if text is None:
            return match.group(0)
        return f"{match.group(0)}\n   <title>{escape(text)}</title>"
    return re.sub(r'<g id="([^"]+)"[^>]*>', insert, svg)
