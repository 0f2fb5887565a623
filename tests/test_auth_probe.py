"""The §3-B recovery probe (anon key against REST and Auth health) on a local HTTP stub (127.0.0.1).

The stub is started by the test on an ephemeral port; nothing leaves the machine. One stub answers
as a healthy gateway, one rejects the key, one accepts the connection and never answers: the probe
must end that call at its timeout and say so. The key is never in what the probe returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from opslib.auth import probe
from opslib.results import Outcome

KEY = "anon-test-key-0123456789abcdef"
HANG_S = 3.0  # the hanging stub stops waiting after this (bounded: the test never leaves a thread behind)


def _stub(mode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        seen: ClassVar[list[tuple[str, str | None]]] = []

        def do_GET(self) -> None:
            Handler.seen.append((self.path, self.headers.get("apikey")))
            if mode == "hang":
                time.sleep(HANG_S)
                return
            ok = mode == "ok" and self.headers.get("apikey") == KEY
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}" if ok else b'{"message":"Invalid API key"}')

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def stub(request) -> Iterator[tuple[str, type[BaseHTTPRequestHandler]]]:
    handler = _stub(request.param)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("stub", ["ok"], indirect=True)
def test_a_healthy_gateway_passes_with_the_key_sent_but_never_returned(stub, monkeypatch):
    url, handler = stub
    monkeypatch.setenv("SUPABASE_URL", url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", KEY)
    result = probe.probe_health(None, enabled=True, timeout_s=2)
    assert result.ran
    assert [p for p, _ in handler.seen] == ["/rest/v1/", "/auth/v1/health"]
    assert all(k == KEY for _, k in handler.seen), "the anon key is sent as apikey"
    (finding,) = result.findings
    assert finding.outcome is Outcome.OK and finding.value == 0
    assert KEY not in repr(result) and KEY not in result.results.to_json()


@pytest.mark.parametrize("stub", ["reject"], indirect=True)
def test_a_rolled_over_key_is_p0(stub, monkeypatch):
    url, _ = stub
    monkeypatch.setenv("SUPABASE_URL", url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", KEY)
    result = probe.probe_health(None, enabled=True, timeout_s=2)
    (finding,) = result.findings
    assert finding.outcome is Outcome.CRITICAL and finding.severity.value == "P0" and finding.value == 2
    assert "401" in result.sentence and KEY not in result.sentence


@pytest.mark.parametrize("stub", ["hang"], indirect=True)
def test_a_hanging_gateway_times_out_cleanly(stub, monkeypatch):
    url, _ = stub
    monkeypatch.setenv("SUPABASE_URL", url)
    monkeypatch.setenv("SUPABASE_ANON_KEY", KEY)
    started = time.perf_counter()
    result = probe.probe_health(None, enabled=True, timeout_s=0.5)
    elapsed = time.perf_counter() - started
    assert elapsed < 2 * 0.5 + 1.0, f"two calls bounded by 0.5 s each took {elapsed:.1f} s"
    assert list(result.results["outcome"]) == ["시간 초과 0.5초 (timed out)"] * 2
    (finding,) = result.findings
    assert finding.outcome is Outcome.CRITICAL


def test_without_the_environment_the_probe_is_skipped_with_a_note(monkeypatch):
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.setenv("SUPABASE_ANON_KEY", KEY)
    result = probe.probe_health(None, enabled=True)
    assert not result.ran and "SUPABASE_URL" in result.sentence and KEY not in result.sentence
    assert result.findings[0].outcome is Outcome.NOT_EVALUATED
    off = probe.probe_health(None, enabled=False)
    assert not off.ran and "opt-in" in off.sentence


def test_a_non_http_url_is_refused(monkeypatch):
    monkeypatch.setenv("SUPABASE_URL", "file:///etc/passwd")
    monkeypatch.setenv("SUPABASE_ANON_KEY", KEY)
    result = probe.probe_health(None, enabled=True)
    assert not result.ran and result.findings[0].outcome is Outcome.NOT_EVALUATED
