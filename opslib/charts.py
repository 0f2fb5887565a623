"""Charts for people: one figure per answer, KST on the time axis, the runbook's lines drawn in.

Figures are drawn with matplotlib's object API (no pyplot, no GUI backend: faster kernel
start, no global state) and shown as inline PNG, so the HTML report embeds them.
Labels are Korean + English when a Korean font is installed, English otherwise (a
missing glyph would print boxes in the report).
"""

from __future__ import annotations

import io
import time
from functools import cache
from pathlib import Path

import pandas as pd

from opslib import checks
from opslib.timewindow import KST

PROVIDER_COLOURS = {"portone": "#1f77b4", "tosspayments": "#ff7f0e"}
OK, WARN, CRIT = "#2e7d32", "#f9a825", "#c62828"
HOLD = "#1e88e5"


# Font file names of Korean-capable fonts (Debian fonts-nanum, fonts-noto-cjk; macOS; Windows).
_KOREAN_FILES = ("nanum", "notosanscjk", "notoserifcjk", "notosanskr", "applesdgothicneo", "malgun")
_KOREAN_NAMES = (
    "NanumGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
    "NanumBarunGothic",
)


def register_korean_fonts() -> int:
    """Add installed Korean font files to matplotlib's font list; how many were added.

    matplotlib's font cache (fontlist-v3*.json) is built once, the first time it is imported:
    a font installed after that (apt-get install fonts-nanum) is not in it, and the charts
    would print boxes. Registering the files explicitly does not depend on the cache's age.
    """
    from matplotlib import font_manager

    known = {Path(f.fname).name for f in font_manager.fontManager.ttflist}
    added = 0
    for path in font_manager.findSystemFonts():
        name = Path(path).name
        if name in known or not any(k in name.lower().replace("-", "").replace("_", "") for k in _KOREAN_FILES):
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError):  # an unreadable or odd font file: skip it
            continue
        added += 1
    return added


@cache
def korean_font() -> str | None:
    """The first Korean-capable font installed; also made matplotlib's default for these charts."""
    import matplotlib
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    if not any(w in names for w in _KOREAN_NAMES) and register_korean_fonts():
        names = {f.name for f in font_manager.fontManager.ttflist}
    font = next((w for w in _KOREAN_NAMES if w in names), None)
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
        matplotlib.rcParams["axes.unicode_minus"] = False  # Korean fonts often lack U+2212
    return font


# Where a page's chart time went (result.json "timings"): seconds from figure to PNG, and how many.
_SPENT = {"seconds": 0.0, "charts": 0}


def seconds_spent() -> float:
    return float(_SPENT["seconds"])


def count_drawn() -> int:
    return int(_SPENT["charts"])


def warm_up() -> None:
    """Import matplotlib and load the fonts now (~0.6 s of a page's first chart).

    open_page runs this in a background thread while the page's first queries wait on the
    database, so the first chart does not pay for it.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=20)
    fig.text(0.1, 0.5, label("한글", "Aa"))
    # and what every first chart met once: a KST time axis, lines, bars, a legend, the title font
    ax = fig.add_subplot()
    times = _kst(pd.Series(pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"])))
    ax.plot(times, [1, 2], marker="o", label="a")
    ax.bar(times, [1, 2], width=0.001, label="b")
    ax.set_title(label("한글", "Aa"))
    _time_axis(ax)
    _legend(ax)
    fig.savefig(io.BytesIO(), format="png")


def label(ko: str, en: str) -> str:
    return f"{ko} ({en})" if korean_font() else en


def _figure(width: float = 10, height: float = 3.6):  # -> matplotlib.figure.Figure
    import matplotlib
    from matplotlib.figure import Figure

    t0 = time.perf_counter()
    korean_font()  # sets the font before anything is drawn
    # Titles at a fixed height: by default every draw measures the axes' top tick labels to lift
    # the title above them (these charts have none up there), a fifth of the time of a chart.
    matplotlib.rcParams["axes.titley"] = 1.0
    # Fixed margins: a constrained layout re-draws the figure to fit it (3x slower per chart).
    # The bottom margin is fixed in inches, so a short strip keeps room for its tick labels and
    # the "KST" axis label (a fraction of a 1.6-inch figure clipped it).
    fig = Figure(figsize=(width, height), dpi=100)
    fig.subplots_adjust(left=0.07, right=0.98, top=1 - 0.5 / height, bottom=0.62 / height, wspace=0.25)
    fig._opsbook_t0 = t0  # type: ignore[attr-defined]
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
    _SPENT["seconds"] += time.perf_counter() - getattr(fig, "_opsbook_t0", time.perf_counter())
    _SPENT["charts"] += 1
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
    ax.set_xlabel(label("시각", "time") + ", KST", fontsize=9)


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


def function_status(status: pd.DataFrame, function: str = "payment-webhook") -> None:
    """An Edge Function's invocations per 5 minutes by status class (stacked): 401 and 5xx stand out."""
    title = label(f"{function} 응답 코드", f"{function} responses by status")
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
        # "→" is not in every Korean font (NanumGothic draws nothing): an ASCII arrow always shows
        ax.set_title(str(transition).replace("→", " -> "), fontsize=9)
        _style(ax)
        if i == 1:
            _legend(ax)
    fig.subplots_adjust(top=0.8)
    fig.suptitle(title)
    show(fig)


def exit_strip(buckets: pd.DataFrame, hold_minutes: int) -> None:
    """Each 5-minute bucket green (all exit conditions normal) or red (one breached), and below
    them, in blue, the span that must hold; a legend says which is which."""
    title = label(f"종료 조건 ({hold_minutes}분 유지)", f"exit condition (held {hold_minutes} min)")
    if buckets.empty:
        return _empty(title)
    show(exit_strip_figure(buckets, hold_minutes))


def exit_strip_figure(buckets: pd.DataFrame, hold_minutes: int):  # -> matplotlib.figure.Figure
    from matplotlib.patches import Patch

    title = label(f"종료 조건 ({hold_minutes}분 유지)", f"exit condition (held {hold_minutes} min)")
    fig = _figure(height=2.4)
    ax = fig.add_subplot()
    starts = _kst(buckets["bucket_start"])
    ends = _kst(buckets["bucket_end"])
    width = (ends - starts).dt.total_seconds() / 86400
    colours = [OK if bool(g) else CRIT for g in buckets["good"]]
    ax.bar(starts, [1] * len(buckets), bottom=0.35, width=width, color=colours, align="edge", edgecolor="white")
    last = ends.max()
    # the held span as its own band under the buckets: shading over them turned red bars pale
    ax.axvspan(last - pd.Timedelta(minutes=hold_minutes), last, ymin=0.02, ymax=0.2, color=HOLD)
    ax.set_ylim(0, 2.0)  # the legend sits above the buckets
    ax.set_yticks([])
    ax.set_title(title)
    _time_axis(ax)
    ax.grid(False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    handles = [
        Patch(color=OK, label=label("정상", "all normal")),
        Patch(color=CRIT, label=label("조건 위반", "a condition breached")),
        Patch(color=HOLD, label=label(f"유지 판정 {hold_minutes}분", f"must hold {hold_minutes} min")),
    ]
    ax.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
    return fig


def cron_outcomes(timeline: pd.DataFrame) -> None:
    """Edge-job runs per 5 minutes by real outcome (stacked): 'succeeded' runs that got 401/5xx stand out."""
    title = label("크론 실행 결과 (Edge 잡)", "cron runs of Edge jobs by HTTP outcome")
    if timeline.empty:
        return _empty(title)
    colours = {
        "OK": OK,
        "HTTP_401": "#8e24aa",
        "HTTP_5XX": CRIT,
        "HTTP_OTHER": WARN,
        "TIMEOUT": "#ef6c00",
        "NETWORK_ERROR": "#6d4c41",
        "NO_RESPONSE": "#455a64",
        "CRON_FAILED": "#000000",
        "UNKNOWN": "#bdbdbd",
        "PENDING": "#90caf9",
        "RUNNING": "#64b5f6",
    }
    frame = timeline.assign(bucket=pd.to_datetime(timeline["start_time"], utc=True).dt.floor("5min"))
    wide = frame.pivot_table(index="bucket", columns="outcome", values="job", aggfunc="count").fillna(0).sort_index()
    times = _kst(pd.Series(wide.index))
    fig = _figure(height=3.0)
    ax = fig.add_subplot()
    bottom = None
    width = 0.8 * (5 / (24 * 60))
    for outcome in [o for o in colours if o in wide.columns]:
        values = wide[outcome].to_numpy()
        ax.bar(times, values, width=width, bottom=bottom, color=colours[outcome], label=outcome, align="edge")
        bottom = values if bottom is None else bottom + values
    ax.set_ylabel(label("실행 수", "runs"))
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)


def realtime_health(buckets: pd.DataFrame) -> None:
    """Realtime per 5 minutes: channel joins and errors (bars) with the error rate, and delivery latency P95
    against the §4-E lines (2 s warning, 5 s P0)."""
    title = label("Realtime 연결 수 · 에러율 (5분 단위)", "Realtime connections and error rate per 5 min")
    if buckets.empty:
        return _empty(title)
    latency = checks.get("messaging.realtime_latency_p95")
    errors_check = checks.get("messaging.realtime_error_rate")
    frame = buckets.sort_values("bucket_start")
    times = _kst(frame["bucket_start"])
    width = 0.8 * (5 / (24 * 60))
    fig = _figure(height=5.2)
    fig.subplots_adjust(hspace=0.55, top=0.9, bottom=0.12)
    ax = fig.add_subplot(2, 1, 1)
    ax.bar(times, frame["joins"], width=width, color="#1f77b4", align="edge", label=label("채널 join", "joins"))
    ax.bar(
        times,
        frame["errors"],
        width=width,
        bottom=frame["joins"],
        color=CRIT,
        align="edge",
        label=label("에러", "errors"),
    )
    ax.set_ylabel(label("건수", "events"))
    rate = ax.twinx()
    rate.plot(
        times + pd.Timedelta(minutes=2.5),
        frame["error_rate"],
        color="#6a1b9a",
        marker="o",
        ms=3,
        label=label("에러율 %", "error rate %"),
    )
    rate.axhline(errors_check.warn, color=WARN, ls="--", lw=1, label=label(f"경고 {errors_check.warn:g}%", "warning"))
    rate.set_ylabel("%")
    rate.set_ylim(0, max(10.0, float(frame["error_rate"].max(skipna=True) or 0) * 1.15))
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()
    extra = rate.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8, frameon=False)
    _time_axis(ax)
    _style(ax)
    lat = fig.add_subplot(2, 1, 2)
    lat.plot(
        times + pd.Timedelta(minutes=2.5),
        frame["latency_p95_ms"] / 1000,
        color="#00695c",
        marker="o",
        ms=3,
        label=label("지연 P95 (초)", "latency P95 (s)"),
    )
    lat.axhline(latency.warn / 1000, color=WARN, ls="--", lw=1.2, label=label("경고 2초", "warning 2 s"))
    lat.axhline(latency.critical / 1000, color=CRIT, ls="--", lw=1.2, label=label("위험 5초 (P0)", "P0 5 s"))
    lat.set_ylabel(label("초", "s"))
    lat.set_ylim(0, max(6.0, float((frame["latency_p95_ms"] / 1000).max(skipna=True) or 0) * 1.15))
    lat.set_title(label("Realtime 전달 지연 P95", "Realtime delivery latency P95"))
    _time_axis(lat)
    _style(lat)
    _legend(lat)
    show(fig)


def backlog_line(buckets: pd.DataFrame) -> None:
    """Overdue messages at the end of each minute, with the §4-E lines (50 warning, 200 P0)."""
    title = label("예약 메시지 백로그 (분 단위)", "scheduled message backlog per minute")
    if buckets.empty:
        return _empty(title)
    check = checks.get("messaging.scheduled_backlog")
    frame = buckets.sort_values("bucket_end")
    fig = _figure(height=2.6)
    ax = fig.add_subplot()
    ax.plot(
        _kst(frame["bucket_end"]),
        frame["backlog_end"],
        color="#37474f",
        marker="o",
        ms=2.5,
        label=label("미발송", "overdue"),
    )
    ax.axhline(
        check.warn, color=WARN, ls="--", lw=1.2, label=label(f"경고 {check.warn:g}건", f"warning {check.warn:g}")
    )
    ax.axhline(check.critical, color=CRIT, ls="--", lw=1.2, label=label(f"위험 {check.critical:g}건 (P0)", "P0"))
    top = float(frame["backlog_end"].max() or 0)
    ax.set_ylim(0, max(check.critical * 1.1, top * 1.1))
    ax.set_ylabel(label("건", "messages"))
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)


def failure_rate(buckets: pd.DataFrame, check_id: str, title_ko: str, title_en: str, *, series: str = "series") -> None:
    """A failure rate (%) per bucket, one line per series, with the check's warning and P0 lines.

    buckets: bucket_start, <series>, failure_rate (None where nothing was attempted).
    """
    title = label(title_ko, title_en)
    if buckets.empty or buckets["failure_rate"].dropna().empty:
        return _empty(title)
    check = checks.get(check_id)
    fig = _figure()
    ax = fig.add_subplot()
    for name, part in buckets.sort_values("bucket_start").groupby(series):
        ax.plot(
            _kst(part["bucket_start"]),
            part["failure_rate"],
            marker="o",
            ms=3,
            lw=2.2 if name == "all" else 1.2,
            label=str(name),
        )
    if check.warn is not None:
        ax.axhline(
            check.warn, color=WARN, ls="--", lw=1.2, label=label(f"경고 {check.warn:g}%", f"warning {check.warn:g}%")
        )
    if check.critical is not None:
        ax.axhline(
            check.critical,
            color=CRIT,
            ls="--",
            lw=1.2,
            label=label(f"위험 {check.critical:g}% (P0)", f"P0 {check.critical:g}%"),
        )
    highest = float(buckets["failure_rate"].max(skipna=True))
    ax.set_ylim(-1, max(20.0, min(101.0, highest + 5)))
    ax.set_ylabel("%")
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)


def upload_success_rate(buckets: pd.DataFrame) -> None:
    """Storage upload success per storage bucket per 5 minutes, with the §3-D exit line (99 %)."""
    title = label("업로드 성공률 (5분 단위, 버킷별)", "upload success rate per 5 min, by bucket")
    if buckets.empty:
        return _empty(title)
    check = checks.get("storage.upload_success_rate")
    fig = _figure()
    ax = fig.add_subplot()
    for bucket_id, part in buckets.sort_values("bucket_start").groupby("bucket_id"):
        ax.plot(_kst(part["bucket_start"]), part["success_rate"], marker="o", ms=3, label=str(bucket_id))
    ax.axhline(
        check.warn, color=WARN, ls="--", lw=1.2, label=label(f"종료 기준 {check.warn:g}%", f"exit {check.warn:g}%")
    )
    ax.axhline(
        check.critical, color=CRIT, ls="--", lw=1.2, label=label(f"위험 {check.critical:g}%", f"P1 {check.critical:g}%")
    )
    lowest = buckets["success_rate"].min(skipna=True)
    ax.set_ylim(max(-2, min(90.0, (100.0 if pd.isna(lowest) else float(lowest)) - 5)), 101)
    ax.set_ylabel("%")
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)


def errors_by_series(errors: pd.DataFrame, top: int = 6) -> None:
    """Failed requests per 5 minutes, stacked by series (e.g. path prefix + status); the rest as 'other'."""
    title = label("경로/상태별 에러 (5분 단위)", "errors by path prefix and status per 5 min")
    if errors.empty:
        return _empty(title)
    totals = errors.groupby("series")["failures"].sum().sort_values(ascending=False)
    keep = list(totals.index[:top])
    frame = errors.assign(series=errors["series"].where(errors["series"].isin(keep), "other"))
    wide = frame.pivot_table(index="bucket_start", columns="series", values="failures", aggfunc="sum").fillna(0)
    wide = wide.sort_index()
    times = _kst(pd.Series(wide.index))
    fig = _figure(height=3.2)
    ax = fig.add_subplot()
    bottom = None
    width = 0.8 * (5 / (24 * 60))
    for series in [s for s in [*keep, "other"] if s in wide.columns]:
        values = wide[series].to_numpy()
        ax.bar(times, values, width=width, bottom=bottom, label=str(series), align="edge")
        bottom = values if bottom is None else bottom + values
    ax.set_ylabel(label("실패 요청", "failed requests"))
    ax.set_title(title)
    _time_axis(ax)
    _style(ax)
    _legend(ax)
    show(fig)
