"""The service under test, run as a child process on a free 127.0.0.1 port.

``python -m benchmarks.service`` builds ``create_app(Settings.from_env())`` and serves it with
werkzeug's threaded server (HTTP/1.1, keep-alive) until SIGTERM; it prints ``PORT <n>`` once it
listens. :class:`Service` starts and stops it and reads its peak RSS (``VmHWM``).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.bolt_server import stop_process

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0


class Service:
    """A provhub service child process; use as a context manager (stopped on exit)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = {**os.environ, **env, "PROVHUB_AUTH": "off", "PROVHUB_SAMPLE": "off", "PYTHONPATH": str(ROOT)}
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def __enter__(self) -> "Service":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.service"], cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=logfile
        )
        logfile.close()
        box: list[int] = []
        reader = threading.Thread(target=self._read_port, args=(box,), daemon=True)
        reader.start()
        reader.join(READY_TIMEOUT)
        if not box:
            self.stop()
            raise RuntimeError(f"the service did not start; see {self.log}")
        self.port = box[0]
        self.peak_anon_kb = 0
        threading.Thread(target=self._sample_anon, args=(self.proc,), daemon=True).start()
        return self

    def _sample_anon(self, proc: subprocess.Popen) -> None:
        """The kernel keeps no peak of anonymous memory (RssAnon): sample it every 20 ms."""
        status = Path(f"/proc/{proc.pid}/status")
        while proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("RssAnon:"):
                        self.peak_anon_kb = max(self.peak_anon_kb, int(line.split()[1]))
            except OSError:
                return
            time.sleep(0.02)

    def _read_port(self, box: list) -> None:
        for line in self.proc.stdout:
            if line.startswith(b"PORT "):
                box.append(int(line.split()[1]))
                return

    def __exit__(self, *exc) -> None:
        self.stop()

    def connection(self, timeout: float = 120.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def peak_anon_mb(self) -> float:
        """Peak anonymous memory of the service so far (sampled RssAnon), in MB: its RSS without
        file pages, such as the SQLite store file the embedded store reads through mmap."""
        return self.peak_anon_kb / 1024

    def peak_rss_mb(self) -> float:
        """Peak resident set size of the service process so far (VmHWM), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def stop(self) -> None:
        if self.proc is None:
            return
        stop_process(self.proc)
        self.proc = None


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes, float]:
    """One request on a kept-alive connection: (status, body, seconds)."""
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data, time.perf_counter() - t0


def main() -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from provhub.app import create_app, settle
    from provhub.app.config import Settings

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_request(self, *args, **kwargs) -> None:  # quiet: benchmarks make many requests
            pass

    app = create_app(Settings.from_env())
    settle()  # as provhub serve and the gunicorn configuration do
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()
    app.extensions["provhub.store"].close()


if __name__ == "__main__":
    main()
