"""Page.prefetch / Page.measure against a real database: a prefetched answer is taken once, fresh."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from opslib import page, timewindow
from opslib.db import normalise_url

CALLS: list[str] = []


def answering_thread(conn: sa.Connection, tag: str) -> str:
    """A page step: says which thread answered, after checking the session it was given."""
    assert conn.execute(sa.text("SHOW transaction_read_only")).scalar_one() == "on", "read-only, prefetched or not"
    CALLS.append(tag)
    return threading.current_thread().name


def failing_step(conn: sa.Connection) -> None:
    conn.execute(sa.text("SELECT 1 / 0"))


@pytest.fixture
def book(contract_db) -> page.Page:
    CALLS.clear()
    now = datetime.now(UTC)
    window = timewindow.Window(now - timedelta(hours=1), now)
    return page.Page("payments", "test", window, normalise_url(contract_db.reader))


def test_a_prefetched_step_is_taken_once_then_measured_again(book):
    book.prefetch(answering_thread, "a")
    assert book.measure(answering_thread, "a").startswith("opsbook-step"), "the prefetched answer is taken"
    assert book.measure(answering_thread, "a") == threading.current_thread().name, "running it again measures anew"
    assert CALLS == ["a", "a"]
    book.finish()
    assert not [n for n in book.notes if "never measured" in n]


def test_other_arguments_are_measured_and_an_unused_prefetch_is_noted(book):
    book.prefetch(answering_thread, "a")
    assert book.measure(answering_thread, "b") == threading.current_thread().name
    book.finish()
    assert [n for n in book.notes if "(prefetched, never measured): answering_thread" in n]


def test_a_stale_prefetch_is_measured_again(book, monkeypatch):
    monkeypatch.setattr(page, "PREFETCH_FRESH_S", -1.0)
    book.prefetch(answering_thread, "a")
    assert book.measure(answering_thread, "a") == threading.current_thread().name


def test_a_prefetched_error_is_raised_by_the_step_that_reads_it(book):
    book.prefetch(failing_step)
    with pytest.raises(sa.exc.DataError, match="division by zero"):
        book.measure(failing_step)


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def test_own_peak_rss_is_this_process_high_water_mark():
    assert page.own_peak_rss_mib() >= _rss_mib() - 1  # a high-water mark is never below the current size
    resident = _rss_mib()
    block = bytearray(300 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touched: resident, not only reserved
    peak = page.own_peak_rss_mib()
    del block
    assert peak is not None and peak >= resident + 250
