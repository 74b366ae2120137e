"""Serving processes freeze their start-up objects out of the collector's passes (app.settle)."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
import urllib.request

from tests.bolt_server import free_port, stop_process
from tests.conftest import ROOT

PROBE = """
import gc

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]
"""


def test_settle_freezes_what_exists_and_collects_the_rest():
    try:
        before = gc.get_freeze_count()
        from provhub.app import settle

        settle()
        assert gc.get_freeze_count() > before
        assert gc.get_count()[0] < 50  # a full collection ran first
    finally:
        gc.unfreeze()


def test_gunicorn_workers_of_the_image_settle(tmp_path):
    """docker/gunicorn.conf.py (the image's --config) settles each worker once it has its app."""
    (tmp_path / "probe.py").write_text(PROBE)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "docker" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--chdir",
            str(tmp_path),
            "probe:app",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    frozen = int(answer.read())
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert frozen > 1000, frozen  # the worker's modules, app included, are frozen
    finally:
        stop_process(proc)
    assert '--config", "/opt/provhub/gunicorn.conf.py"' in (ROOT / "docker" / "Dockerfile").read_text()
