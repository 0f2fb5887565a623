"""Charts for people: Korean drawn with a Korean font (even when matplotlib's font cache predates
the font), legends that say what the colours mean, axis labels inside the picture."""

from __future__ import annotations

import io
import warnings
from datetime import datetime, timedelta

import pandas as pd
import pytest
from conftest import require_or_skip

from opslib import charts
from opslib.timewindow import KST


def _strip_buckets() -> pd.DataFrame:
    start = datetime(2026, 11, 25, 3, 0, tzinfo=KST)
    starts = [start + timedelta(minutes=5 * i) for i in range(36)]
    return pd.DataFrame(
        {
            "bucket_start": starts,
            "bucket_end": [s + timedelta(minutes=5) for s in starts],
            "good": [i < 20 for i in range(36)],
        }
    )


def _korean_font_files() -> list[str]:
    from matplotlib import font_manager

    keys = ("nanum", "notosanscjk", "notosanskr")
    return [p for p in font_manager.findSystemFonts() if any(k in p.lower().replace("-", "") for k in keys)]


@pytest.fixture
def stale_font_cache():
    """matplotlib's font list as a cache built before the Korean font was installed: no Korean entry."""
    from matplotlib import font_manager, rcParams

    manager = font_manager.fontManager
    saved_list, saved_family = list(manager.ttflist), rcParams["font.family"]
    manager.ttflist = [f for f in manager.ttflist if f.name not in charts._KOREAN_NAMES]
    charts.korean_font.cache_clear()
    yield
    manager.ttflist = saved_list
    rcParams["font.family"] = saved_family
    charts.korean_font.cache_clear()


def test_korean_is_drawn_with_a_korean_font_even_from_a_stale_font_cache(stale_font_cache):
    from matplotlib import font_manager

    if not _korean_font_files():
        require_or_skip("no Korean font installed (Debian: fonts-nanum)")
    font = charts.korean_font()
    assert font is not None, "an installed Korean font must be registered although the cache does not list it"
    used = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    assert any(k in used.lower() for k in ("nanum", "cjk", "notosanskr")), used
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = charts.exit_strip_figure(_strip_buckets(), 30)
        fig.savefig(io.BytesIO(), format="png")
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not missing, missing[:3]
    assert "종료 조건" in fig.axes[0].get_title()


def test_exit_strip_explains_its_colours_and_keeps_its_axis_label():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = charts.exit_strip_figure(_strip_buckets(), 30)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == 3, texts  # green, red, the blue held span
    assert any("normal" in t for t in texts) and any("breached" in t for t in texts), texts
    assert any("30" in t for t in texts), texts
    renderer = canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    label = ax.xaxis.label.get_window_extent(renderer)
    assert "KST" in ax.xaxis.label.get_text()
    assert label.y0 >= 0 and label.y1 <= height, (label, height)  # not clipped at the bottom
    box = legend.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, (box, width, height)
