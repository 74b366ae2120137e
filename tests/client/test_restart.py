"""Kill and restart a real `provhub serve` while a bounded loop posts through the client: every
document ends up stored exactly once, and the spool empty."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from provhub.app.stores import open_store
from provhub.client import Client
from tests.client.test_client import doc
from tests.conftest import make_settings
from tests.faults.test_faults import env_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(settings, port):
    proc = subprocess.Popen(
        [sys.executable, "-c", "from provhub.app.cli import main; main()", "serve", "--port", str(port), "--no-sample"],
        env={**env_for(settings), "PROVHUB_AUTH": "off"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("provhub serve did not start")


@pytest.mark.slow
def test_kill_and_restart_loses_and_duplicates_nothing(backend, request, tmp_path):
    settings = make_settings(backend, request, tmp_path)
    port = _free_port()
    proc = _start(settings, port)
    spool = tmp_path / "spool"
    c = Client(f"http://127.0.0.1:{port}", spool=spool, retry_for=0.8, backoff=0.05, timeout=5)
    n = 40
    results = []
    failures = []

    def loop():
        try:
            for k in range(n):
                results.append(c.post(doc(100 + k)))
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    writer = threading.Thread(target=loop)
    writer.start()
    try:
        while len(results) < 8:
            time.sleep(0.02)
        proc.kill()  # SIGKILL mid-loop
        proc.wait()
        time.sleep(2.5)  # longer than retry_for: some posts go to the spool
        spooled_during = sum(1 for r in results if r.spooled)
        proc = _start(settings, port)
        writer.join(60)
        c.flush(retry_for=10)
    finally:
        proc.kill()
        proc.wait()
    assert not failures and len(results) == n
    assert spooled_during > 0  # the outage was seen and spooled
    assert not list(c.spool.entries()) and not (spool / "rejected").exists()
    store = open_store(settings.store_url, settings)
    try:
        docs, total = store.list_documents(0, 1000)
        assert total == n and len({d.id for d in docs}) == n
        assert {r.id for r in results if not r.spooled} <= {d.id for d in docs}
    finally:
        store.close()
