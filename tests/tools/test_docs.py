"""``policy docs``: the static site, checked by parsing its HTML and by opening it in Chromium."""

from __future__ import annotations

import datetime as dt
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from engine import Engine
from engine.tools.docsite import build_site

from .conftest import POLICY, chromium

AS_OF = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(Engine.load(POLICY), out, as_of=AS_OF)
    return out


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_every_local_link_and_anchor_resolves(site):
    pages = {p.name: parse(p) for p in site.glob("*.html")}
    assert "index.html" in pages and len(pages) > 3
    broken = []
    for name, page in pages.items():
        assert page.stylesheets == ["style.css"]
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme in ("http", "https", "mailto"):
                continue
            target = parts.path or name
            if target not in pages:
                broken.append(f"{name}: {href} (no page)")
            elif parts.fragment and parts.fragment not in pages[target].ids:
                broken.append(f"{name}: {href} (no anchor)")
    assert not broken, "\n".join(broken)
    assert (site / "style.css").is_file()


def test_parameters_show_their_history_with_cited_links(site):
    text = (site / "fpl.html").read_text(encoding="utf-8")
    page = parse(site / "fpl.html")
    assert "param-first_person" in page.ids
    # the 2025 guideline ($15,650) in force 2025-04-01 to 2026-03-31, with the HHS URL as a link
    assert "2025-04-01" in text and "2026-03-31" in text and "$15,650" in text
    assert any(href.startswith("https://www.govinfo.gov/") for href in page.links)


def test_rules_are_shown_with_linked_expressions_and_reasons(site):
    page = parse(site / "magi.html")
    assert "rule-household_size" in page.ids
    # `household_members` in the household_size formula links to its definition
    assert "magi.html#rule-household_members" in page.links
    assert "fpl.html#fn-guideline" in page.links          # fpl.guideline(household_size)
    assert any("MAGI household" in t for t in page.text)


class ChartRows(HTMLParser):
    """The cells of each body row of a page's ``table.chart``."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.depth = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "chart") in attrs:
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth = 0
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def chart_rows(path: Path) -> dict[tuple[str, str], list[str]]:
    parser = ChartRows()
    parser.feed(path.read_text(encoding="utf-8"))
    return {(r[0], r[1]): r[:5] for r in parser.rows if len(r) >= 5}


def test_the_income_limit_chart_as_of_the_date_and_every_period(site):
    page = parse(site / "table-income-limits.html")
    assert "2025-06-01" in " ".join(page.text)
    assert "table-income-limits-2025-04-01.html" in page.links
    rows = chart_rows(site / "table-income-limits.html")          # as of 2025-06-01
    # QMB 100% for one in 2025: 15,650 / 12 = 1,304.17 -> $1,305 (IM-13 2025, Appendix J)
    assert rows[("QMB", "1")] == ["QMB", "1", "100%", "$1,305", "—"]
    assert chart_rows(site / "table-income-limits-2025-04-01.html") == rows
    # 2018 period: CHIP 75 for 3 at 300% = 20,780 x 3 / 12 = $5,195; at 305% 5,281.58 -> $5,282
    old = chart_rows(site / "table-income-limits-2018-04-01.html")
    assert old[("CHIP_75", "3")] == ["CHIP_75", "3", "300%", "$5,195", "$5,282"]


def test_rulebook_text_is_escaped(tmp_path):
    books = tmp_path / "books"
    books.mkdir()
    (books / "x.yaml").write_text(
        "rulebook: x\nversion: '1'\ntitle: '<script>alert(1)</script>'\nparameters:\n  p:\n"
        "    title: '<b>bold</b>'\n    unit: USD\n    citation: {source: 'A & B', url: 'https://example.org/?a=1&b=2'}\n"
        "    values:\n      2025-01-01: 1\n", encoding="utf-8")
    out = tmp_path / "site"
    build_site(Engine.load(books), out, as_of=AS_OF)
    html = (out / "x.html").read_text(encoding="utf-8") + (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "A &amp; B" in html
    assert 'href="https://example.org/?a=1&amp;b=2"' in html


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt-get install -y chromium); "
                    "the pure-Python link and content checks above still ran")
def test_pages_open_in_headless_chromium(site, tmp_path):
    browser = chromium()
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(base + ["--dump-dom", (site / "table-income-limits.html").as_uri()],
                         capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<table class=\"chart\">" in dom.stdout and ">$1,305<" in dom.stdout
    shot = tmp_path / "index.png"
    done = subprocess.run(base + ["--window-size=1200,900", f"--screenshot={shot}",
                                  (site / "index.html").as_uri()],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000     # a rendered page, not blank
