"""Real browser: click a confusion cell on the Metrics page and see its samples beside the chart.

Plotly selection events only exist in a browser (AppTest cannot click a chart), so this drives the
app in headless Chromium (Debian's, through Playwright); skipped when no chromium is installed.
"""
from __future__ import annotations

import re
import time

import pytest

from test_browser import READY_JS, browser_page, server  # noqa: F401 - the shared server and browser fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _ready(page):
    page.wait_for_function(READY_JS, polling=200)
    time.sleep(0.4)
    page.wait_for_function(READY_JS, polling=200)


def test_clicking_a_confusion_cell_opens_its_comments(browser_page, server):  # noqa: F811
    from lt_core.data import load_classification_demo

    page = browser_page
    page.goto(f"{server}/Metrics", wait_until="domcontentloaded")
    _ready(page)
    side = page.locator('[data-testid="stSidebar"]')
    if side.get_by_text("single-label", exact=True).count():  # the demo's single-label view has the confusions
        side.get_by_text("single-label", exact=True).first.click()
        _ready(page)
    chart = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Confusions by train frequency")
    chart.first.scroll_into_view_if_needed()
    points = chart.first.locator(".scatterlayer .trace .points path")
    assert points.count() > 100  # one square per confused cell
    points.nth(7).click(force=True)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('[data-testid="stMarkdownContainer"]'))
        .some(e => /^true .+ → predicted .+$/.test(e.innerText.trim()))""", polling=200)
    _ready(page)
    main = page.locator('[data-testid="stMain"]').inner_text()
    m = re.search(r"true (.+?) → predicted (.+?): (\d[\d,]*) samples?", main)
    assert m, main[-3000:]
    a, b, n = m.group(1), m.group(2), int(m.group(3).replace(",", ""))
    ds = load_classification_demo("single-label")
    names = list(ds.classes.names)
    y = ds.labels["test"].y
    p = ds.runs["joint"].preds["test"].labels
    assert n == int(((y == names.index(a)) & (p == names.index(b))).sum()) > 0
    # the comments are shown: the first card's text is one of the cell's comments
    texts = {t for t, yy, pp in zip(ds.labels["test"].texts, y, p) if yy == names.index(a) and pp == names.index(b)}
    body = " ".join(main.split())
    assert sum(" ".join(t.split())[:30] in body for t in texts) >= min(len(texts), 5)
    assert page.get_by_text(re.compile(r"CSV of all")).count() >= 1
