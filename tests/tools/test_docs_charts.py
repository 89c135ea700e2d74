"""The docs site's pictures: parameter histories as line charts, Appendix A as a grid, money as
money, a sweep page; reproducible pages without local paths; and the pictures in Chromium.

Expected figures: the HHS guideline for one, $12,140 (2018) and $15,650 (2025); QMB at 100% for
one in 2025, 15,650 / 12 = 1,304.17 -> $1,305 (IM-13 2025, Appendix J); CHIP 75 for 3 in 2018,
300% of $20,780 / 12 = $5,195 and 305% = $5,281.58 -> $5,282 (MAGI Manual 1805.030.20.20.05); the
CHIP 75 premium for a family of 3, $242 from July 1, 2024 and $250 from July 1, 2025 (Appendix E).
"""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from engine import Engine
from engine.tools.docsite import build_site
from engine.tools.sweep import money, sweep
from engine.tools.sweep.picture import write_picture

from .conftest import CLEAN, POLICY, ROOT, chromium

AS_OF = dt.date(2025, 6, 1)
SWEEPS = ROOT / "examples" / "sweeps.yaml"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(POLICY)


@pytest.fixture(scope="module")
def site(engine, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(engine, out, as_of=AS_OF, root=POLICY, sweeps=SWEEPS)
    return out


def text(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


class Grid(HTMLParser):
    """The rows of ``table.grid``: the row header's first line, then each cell's lines."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[list[str]]] = []
        self.inside = False
        self.cell: list[str] | None = None
        self.part: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("class", "grid") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell, self.part = [], []
        elif self.cell is not None and tag == "div":
            self._flush()

    def _flush(self):
        joined = "".join(self.part).strip()
        if joined:
            self.cell.append(joined)
        self.part = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.cell is not None and tag in ("td", "th"):
            self._flush()
            self.rows[-1].append(self.cell)
            self.cell = None
        elif self.cell is not None and tag == "div":
            self._flush()

    def handle_data(self, data):
        if self.cell is not None:
            self.part.append(data)


def grid(site: Path, page: str) -> dict[str, list[list[str]]]:
    parser = Grid()
    parser.feed(text(site, page))
    return {row[0][0]: row for row in parser.rows[1:] if row and row[0]}


def test_poverty_guidelines_are_drawn_as_a_line_chart_with_a_tooltip_per_value(site):
    page = text(site, "fpl.html")
    figure = page[page.index('id="chart-first_person"'):]
    figure = figure[:figure.index("</figure>")]
    assert "<svg" in figure and "<path" in figure
    assert "<title>fpl.first_person: $12,140 from 2018-04-01</title>" in figure
    assert "<title>fpl.first_person: $15,650 from 2025-04-01</title>" in figure
    assert "$12,140" in page                         # the history table shows money as money


def test_chip_premiums_by_tier_are_drawn_one_line_per_family_size(site):
    page = text(site, "chip.html")
    figure = page[page.index('id="chart-premium_tier_3"'):]
    figure = figure[:figure.index("</figure>")]
    assert "<title>chip.premium_tier_3 [3]: $242 from 2024-07-01</title>" in figure
    assert "<title>chip.premium_tier_3 [3]: $250 from 2025-07-01</title>" in figure
    assert figure.count("<title>chip.premium_tier_3 [") == 12 * 4      # 12 sizes, 4 charts


def test_appendix_a_is_a_grid_of_program_by_household_size(site):
    current = grid(site, "table-income-limits.html")
    assert current["QMB"][0] == ["QMB", "percent fpl 100%"]
    assert current["QMB"][1] == ["$1,305"]                       # size 1: no disregard
    old = grid(site, "table-income-limits-2018-04-01.html")
    assert old["CHIP_75"][0] == ["CHIP_75", "percent fpl 300%"]
    assert old["CHIP_75"][3] == ["$5,195", "$5,282"]             # size 3, with the disregard
    assert old["MHF"][3] == ["$301", "$388"]                     # flat standard + 5% of 100% FPL


def test_the_sweep_page_shows_the_picture_and_the_changes(site):
    index = text(site, "index.html")
    assert 'href="sweep-jones.html"' in index and 'href="sweep-mother-of-two-2025.html"' in index
    page = text(site, "sweep-jones.html")
    assert "as of <strong>2018-06-01</strong>" in page
    assert page.count("<svg") == 1 and "<?xml" not in page
    assert "<title>At $5,282.01 a month:" in page
    rows = re.findall(r'<td class="num">(\$[\d,.]+)</td><td>(\w+)</td>', page)
    assert ("$5,282.01", "kid1") in rows and ("$388.01", "dad") in rows
    family = text(site, "sweep-mother-of-two-2025.html")
    assert "as of <strong>2025-07-01</strong>" in family and "$4,575.01" in family


def test_no_local_paths_and_paths_relative_to_the_rulebook_directory(site):
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert str(ROOT) not in html and str(site) not in html, page.name
        assert "/tmp/" not in html and "/home/" not in html, page.name
    assert '<span class="src">fpl.yaml:' in text(site, "fpl.html")
    assert "<code>magi/income.yaml</code>" in text(site, "magi.html")


def test_the_site_is_reproducible_and_dated_only_when_asked(engine, site, tmp_path):
    again = tmp_path / "again"
    build_site(engine, again, as_of=AS_OF, root=POLICY, sweeps=SWEEPS)
    names = sorted(p.name for p in site.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    _, mismatch, errors = filecmp.cmpfiles(site, again, names, shallow=False)
    assert mismatch == [] and errors == []
    index = text(site, "index.html")
    assert "Policy as of 2025-06-01." in index and "Built" not in index
    assert dt.date.today().isoformat() not in index
    dated = tmp_path / "dated"
    build_site(Engine.load(CLEAN), dated, as_of=AS_OF, build_date=dt.date(2030, 1, 2))
    assert "Built 2030-01-02." in (dated / "index.html").read_text(encoding="utf-8")


def test_a_bad_sweeps_file_is_refused_with_its_line(engine, tmp_path):
    from engine.errors import InputError
    spec = tmp_path / "sweeps.yaml"
    spec.write_text(f"sweeps:\n  - case: {ROOT / 'examples' / 'jones.yaml'}\n    income: dad\n"
                    "    from: 0\n    to: 100\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        build_site(engine, tmp_path / "site", as_of=AS_OF, sweeps=spec)
    problem = raised.value.problem
    assert "lacks step" in problem.message and problem.line == 2 and problem.file == str(spec)


# -- in a browser -------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium from the command line: the DOM after loading, the console messages
    (Chromium logs each as a ``CONSOLE`` line on stderr), and screenshots."""

    def __init__(self, path: str, profile: Path):
        self.base = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"]

    def open(self, page: Path) -> tuple[str, list[str]]:
        done = subprocess.run(self.base + ["--dump-dom", page.as_uri()], capture_output=True,
                              text=True, timeout=90)
        assert done.returncode == 0, done.stderr[-2000:]
        console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
        return done.stdout, console

    def screenshot(self, page: Path, shot: Path) -> bytes:
        done = subprocess.run(self.base + ["--window-size=1280,1400", f"--screenshot={shot}",
                                           page.as_uri()], capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr[-2000:]
        return shot.read_bytes()


def _distinct_colours(png: Path) -> int:
    from PIL import Image
    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt-get install -y chromium); "
                    "the pure-Python checks of the pictures above still ran")
def test_sweep_and_chart_pages_in_headless_chromium(engine, site, tmp_path, tmp_path_factory):
    browser = Browser(chromium(), tmp_path / "profile")
    artefacts = Path(os.environ.get("POLICY_TEST_ARTEFACTS") or tmp_path_factory.mktemp("screenshots"))
    artefacts.mkdir(parents=True, exist_ok=True)

    # the console is really read: a page with a script error is caught
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><script>throw new Error('deliberate')</script>", encoding="utf-8")
    assert any("deliberate" in line for line in browser.open(broken)[1])

    result = sweep(engine, ROOT / "examples" / "mother-of-two-2025.yaml", "mom", money("0", ""),
                   money("7500", ""), money("100", ""),
                   names=["eligibility.level_of_care", "chip.family_premium"])
    page = write_picture(result, tmp_path / "sweep.html")
    for target, expected_titles in ((page, ["At $4,575.01 a month", "mom: level of care"]),
                                    (site / "fpl.html", ["fpl.first_person: $15,650 from 2025-04-01"])):
        dom, console = browser.open(target)
        assert console == [], f"{target.name}: {console}"
        svg = dom[dom.index("<svg"):]                     # parsed as SVG, with its drawing
        assert svg.count("<path") > 10 and "<g id=" in svg, target.name
        for title in expected_titles:
            assert title in dom, (target.name, title)
        shot = browser.screenshot(target, artefacts / f"{target.stem}.png")
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        assert _distinct_colours(artefacts / f"{target.stem}.png") > 20, f"{target.name} looks blank"
    dom, console = browser.open(site / "table-income-limits.html")     # the Appendix A grid
    assert console == [] and '<table class="grid">' in dom and ">$1,305<" in dom
