"""Charts for people: one figure per answer, KST on the time axis, the runbook's lines drawn in.

Figures are drawn with matplotlib's object API (no pyplot, no GUI backend: faster kernel
start, no global state) and shown as inline PNG, so the HTML report embeds them.
Labels are Korean + English when a Korean font is installed, English otherwise (a
missing glyph would print boxes in the report).
"""

from __future__ import annotations

import io
from functools import cache

import pandas as pd

from opslib import checks
from opslib.timewindow import KST

PROVIDER_COLOURS = {"portone": "#1f77b4", "tosspayments": "#ff7f0e"}
OK, WARN, CRIT = "#2e7d32", "#f9a825", "#c62828"


@cache
def korean_font() -> str | None:
    """The first Korean-capable font installed; also made matplotlib's default for these charts."""
    import matplotlib
    from matplotlib import font_manager

    wanted = (
        "NanumGothic",
        "Noto Sans CJK KR",
        "Noto Sans KR",
        "Apple SD Gothic Neo",
        "Malgun Gothic",
        "NanumBarunGothic",
    )
    names = {f.name for f in font_manager.fontManager.ttflist}
    font = next((w for w in wanted if w in names), None)
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
        matplotlib.rcParams["axes.unicode_minus"] = False  # Korean fonts often lack U+2212
    return font


def warm_up() -> None:
    """Import matplotlib and load the fonts now (~0.6 s of a page's first chart).

    open_page runs this in a background thread while the page's first queries wait on the
    database, so the first chart does not pay for it.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=20)
    fig.text(0.1, 0.5, label("한글", "Aa"))
    fig.savefig(io.BytesIO(), format="png")


def label(ko: str, en: str) -> str:
    return f"{ko} ({en})" if korean_font() else en


def _figure(width: float = 10, height: float = 3.6):  # -> matplotlib.figure.Figure
    from matplotlib.figure import Figure

    korean_font()  # sets the font before anything is drawn
    # Fixed margins: a constrained layout re-draws the figure to fit it (3x slower per chart).
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.2, wspace=0.25)
    return fig


def _style(ax) -> None:
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _legend(ax) -> None:
    ax.legend(loc="best", fontsize=8, frameon=False)


def show(fig) -> None:
    """Inline PNG: survives papermill and nbconvert as an embedded image."""
    from IPython.display import Image, display

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    titles = [fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)]
    alt = " · ".join(t for t in titles if t) or "chart"
    # The report's alt text (for screen readers and when an image does not load).
    display(Image(data=buf.getvalue(), format="png", metadata={"alt": alt}))


def _empty(title: str) -> None:
    from IPython.display import HTML, display

    display(HTML(f"<p><i>{title}: {label('데이터 없음', 'no data in the window')}</i></p>"))


def _kst(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_convert(KST)


def _time_axis(ax) -> None:
    from matplotlib.dates import DateFormatter

    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=KST))
    ax.set_xlabel("KST")


def webhook_success_rate(buckets: pd.DataFrame) -> None:
    """Success rate per provider per 5 minutes, with the §4-E 98 % (warning) and 95 % (P0) lines."""
    if buckets.empty:
        return _empty(label("Webhook 성공률 (5분 단위)", "webhook success rate per 5 min"))
    show(webhook_success_figure(buckets))


def webhook_success_figure(buckets: pd.DataFrame):  # -> matplotlib.figure.Figure
    title = label("Webhook 성공률 (5분 단위)", "webhook success rate per 5 min")
    check = checks.get("payments.webhook_success_rate")
    fig = _figure()
    ax = fig.add_subplot()
    for provider, part in buckets.sort_values("bucket_start").groupby("provider"):
        ax.plot(
            _kst(part["bucket_start"]),
            part["success_rate"],
            marker="o",
            ms=3,
            color=PROVIDER_COLOURS.get(str(provider)),
            label=str(provider),
        )
    ax.axhline(
        check.warn, color=WARN, ls="--", lw=1.2, label=label(f"경고 {check.warn:g}%", f"warning {check.warn:g}%")
    )
    ax.axhline(
        check.critical,
        color=CRIT,
        ls="--",
        lw=1.2,
        label=label(f"위험 {check.critical:g}% (P0)", f"P0 {check.critical:g}%"),
    )
    lowest = buckets["success_rate"].min(skipna=True)
    # a 0 % bucket (total outage) must stay on the chart: 0.0 is falsy, NaN is "no data"
    low = min(90.0, (100.0 if pd.isna(lowest) else float(lowest)) - 5)
    ax.set_ylim(max(-2, low), 101)
    ax.set_ylabel("%")
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    return fig


def function_status(status: pd.DataFrame, function_name: str = "payment-webhook") -> None:
    """An Edge Function's invocations per 5 minutes by status class (stacked): 401 and 5xx stand out."""
    title = label(f"{function_name} 응답 코드", f"{function_name} responses by status")
    if status.empty:
        return _empty(title)
    colours = {
        "2xx": OK,
        "401": "#8e24aa",
        "403": "#5d4037",
        "429": "#00838f",
        "4xx": WARN,
        "5xx": CRIT,
        "other": "#757575",
    }
    wide = status.pivot_table(index="bucket_start", columns="status_class", values="invocations", aggfunc="sum").fillna(
        0
    )
    wide = wide.sort_index()
    times = _kst(pd.Series(wide.index))
    fig = _figure(height=3.0)
    ax = fig.add_subplot()
    bottom = None
    width = 0.8 * (5 / (24 * 60))  # 5-minute bars, in days
    for cls in [c for c in colours if c in wide.columns]:
        values = wide[cls].to_numpy()
        ax.bar(times, values, width=width, bottom=bottom, color=colours[cls], label=cls, align="edge")
        bottom = values if bottom is None else bottom + values
    ax.set_ylabel(label("호출 수", "invocations"))
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)


def funnel(stages: pd.DataFrame) -> None:
    """Checkout → Confirm → Webhook → Ledger per provider, with what is stuck after each stage."""
    title = label("결제 파이프라인 (퍼널)", "payment pipeline funnel")
    if stages.empty or int(stages["entered"].sum()) == 0:
        return _empty(title)
    providers = [p for p in stages["provider"].unique()]
    fig = _figure(height=3.2 * max(1, len(providers)) * 0.75)
    for i, provider in enumerate(providers, start=1):
        part = stages[stages["provider"] == provider].sort_values("stage_order")
        ax = fig.add_subplot(1, len(providers), i)
        names = [str(s).split(" (")[0] for s in part["stage_label"]]
        ax.bar(
            names, part["entered"], color=PROVIDER_COLOURS.get(str(provider), "#607d8b"), label=label("진입", "entered")
        )
        ax.bar(names, part["stuck_after"], color=CRIT, alpha=0.85, label=label("다음 단계로 못 감", "stuck after"))
        for x, (entered, stuck) in enumerate(zip(part["entered"], part["stuck_after"], strict=True)):
            ax.annotate(f"{int(entered):,}", (x, entered), ha="center", va="bottom", fontsize=8)
            if stuck:
                ax.annotate(f"{int(stuck):,}", (x, stuck), ha="center", va="bottom", fontsize=8, color=CRIT)
        ax.set_title(str(provider))
        _style(ax)
        if i == 1:
            _legend(ax)
    fig.subplots_adjust(top=0.8)
    fig.suptitle(title)
    show(fig)


def lag_distribution(histogram: pd.DataFrame) -> None:
    """How long purchases wait between stages (seconds, log buckets), per transition."""
    title = label("단계 간 지연 분포", "lag between stages")
    if histogram.empty or int(histogram["n"].sum()) == 0:
        return _empty(title)
    transitions = list(dict.fromkeys(histogram["transition"]))
    fig = _figure(height=3.0)
    for i, transition in enumerate(transitions, start=1):
        ax = fig.add_subplot(1, len(transitions), i)
        part = histogram[histogram["transition"] == transition]
        wide = part.pivot_table(index="bucket", columns="provider", values="n", aggfunc="sum").fillna(0)
        order = part.drop_duplicates("bucket").sort_values("lower_s")["bucket"].tolist()
        wide = wide.reindex(order)
        x = range(len(wide.index))
        offset = 0.0
        for provider in wide.columns:
            ax.bar(
                [xi + offset for xi in x],
                wide[provider],
                width=0.4,
                color=PROVIDER_COLOURS.get(str(provider)),
                label=str(provider),
            )
            offset += 0.4
        ax.set_xticks(list(x), [str(b) for b in wide.index], rotation=45, fontsize=7)
        ax.set_title(str(transition), fontsize=9)
        _style(ax)
        if i == 1:
            _legend(ax)
    fig.subplots_adjust(top=0.8)
    fig.suptitle(title)
    show(fig)


def exit_strip(buckets: pd.DataFrame, hold_minutes: int) -> None:
    """Each 5-minute bucket green (all exit conditions normal) or red, with the hold period shaded."""
    title = label(f"종료 조건 ({hold_minutes}분 유지)", f"exit condition (held {hold_minutes} min)")
    if buckets.empty:
        return _empty(title)
    fig = _figure(height=1.6)
    ax = fig.add_subplot()
    starts = _kst(buckets["bucket_start"])
    ends = _kst(buckets["bucket_end"])
    width = (ends - starts).dt.total_seconds() / 86400
    colours = [OK if bool(g) else CRIT for g in buckets["good"]]
    ax.bar(starts, [1] * len(buckets), width=width, color=colours, align="edge", edgecolor="white")
    last = ends.max()
    ax.axvspan(last - pd.Timedelta(minutes=hold_minutes), last, color="#90caf9", alpha=0.25)
    ax.set_yticks([])
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    show(fig)
