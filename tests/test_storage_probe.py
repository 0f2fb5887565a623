"""The opt-in service-role probe against a local Storage stub on 127.0.0.1 (never a real project)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opslib.storage import probe

KEY = "sb_secret_" + "Zk3" * 12  # a stand-in service-role key: must never leave the request headers


class Stub:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.upload_status = 200
        self.delete_status = 200
        self.delay_s = 0.0


@pytest.fixture
def stub() -> Iterator[tuple[Stub, str]]:
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            time.sleep(state.delay_s)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"Key":"ok"}')

        def do_POST(self) -> None:
            self._answer(state.upload_status)

        def do_DELETE(self) -> None:
            self._answer(state.delete_status)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _env(url: str) -> dict[str, str]:
    return {probe.ENV_URL: url, probe.ENV_KEY: KEY}


def test_upload_then_delete_under_the_test_path(stub):
    state, url = stub
    result = probe.run_probe("message-media", "/opsbook-probe/", environ=_env(url))
    assert result.ran and result.ok and [s.status for s in result.steps] == [200, 200]
    (m1, p1, h1, body), (m2, p2, _, _) = state.seen
    assert (m1, m2) == ("POST", "DELETE") and p1 == p2
    assert p1.startswith("/storage/v1/object/message-media/opsbook-probe/") and p1.endswith(".txt")
    assert h1["authorization"] == f"Bearer {KEY}" and h1["apikey"] == KEY
    assert body == probe.PROBE_BODY
    assert KEY not in repr(result), "the key never leaves the request"


def test_a_failing_upload_is_reported_and_nothing_is_deleted(stub):
    state, url = stub
    state.upload_status = 503
    result = probe.run_probe("message-media", "opsbook-probe", environ=_env(url))
    assert result.ran and result.ok is False and result.upload_ok is False
    assert [s.status for s in result.steps] == [503]
    assert [m for m, *_ in state.seen] == ["POST"]
    assert probe.infer(10, result, 0, 0)[0] is probe.Cause.NETWORK


def test_the_probe_is_time_bounded(stub):
    state, url = stub
    state.delay_s = 3.0
    started = time.monotonic()
    result = probe.run_probe("message-media", "opsbook-probe", timeout_s=0.5, environ=_env(url))
    assert time.monotonic() - started < 2.0
    assert result.ran and result.steps[0].status is None and "timed out" in result.steps[0].error.lower()
    assert KEY not in repr(result)


def test_skipped_with_a_note_without_a_key_or_a_safe_url():
    no_key = probe.run_probe("b", "p", environ={probe.ENV_URL: "https://x.supabase.co"})
    assert not no_key.ran and probe.ENV_KEY in no_key.note and no_key.ok is None
    plain = probe.run_probe("b", "p", environ={probe.ENV_URL: "http://x.supabase.co", probe.ENV_KEY: KEY})
    assert not plain.ran and "https" in plain.note, "a key never travels over plain http to another machine"


def test_nothing_listens_is_a_failure_not_a_crash():
    result = probe.run_probe("b", "p", timeout_s=1.0, environ=_env("http://127.0.0.1:9"))
    assert result.ran and result.ok is False and result.steps[0].status is None and result.steps[0].error
