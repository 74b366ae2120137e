"""Issue 22, "the app tier is stateless": 4 gunicorn workers and a second ``provhub serve`` on one
store (a SQLite file, or the Bolt server), 8 writers posting through both at once. Counts are
exact, rights are the same through every process, an API token made by one process (the CLI)
is valid at once in the others, and a browser session signed in through one process is valid
in the other (the cookie is keyed by the store's secret)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner

from provhub.app.cli import load_commands
from tests.bolt_server import free_port, stop_process
from tests.conftest import ROOT
from tests.oidc.provider import AUDIENCE, User

pytestmark = pytest.mark.slow
WRITERS = 8
EACH = 6
PN = {"Content-Type": "text/provenance-notation", "Accept": "application/json"}


def doc(n: int) -> str:
    return f"""document
  prefix ex <http://example.org/cta#>
  entity(ex:run{n}, [ex:obs_id={n}])
endDocument"""


def wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.poll() is not None and proc.stdout else ""
            raise AssertionError(f"{url} did not come up: {out[-2000:]}")
        time.sleep(0.2)


@pytest.fixture
def tier(settings, oidc_provider):
    """(gunicorn URL, provhub serve URL, env) on the test's store, auth and OIDC on."""
    gport, sport = free_port(), free_port()
    oidc_provider.add_client(
        f"web-{gport}",
        {},
        scope="openid profile wlcg.groups",
        redirect_uris=[f"http://127.0.0.1:{gport}/login/callback"],
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
        "PROVHUB_AUTH": "on",
        "PROVHUB_SAMPLE": "off",
        "PROVHUB_OIDC_ISSUERS": oidc_provider.issuer,
        "PROVHUB_OIDC_AUDIENCE": AUDIENCE,
        "PROVHUB_OIDC_WRITER_GROUPS": "hess",
        "PROVHUB_OIDC_CLIENT_ID": f"web-{gport}",
        "PROVHUB_OIDC_CLIENT_SECRET": f"web-{gport}-secret",
    }
    # the store exists (and has its secret) before two kinds of process open it at once
    CliRunner().invoke(load_commands(), ["tokens", "list"], env=env, catch_exceptions=False)
    gunicorn = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "docker" / "gunicorn.conf.py")]
    gunicorn += ["--bind", f"127.0.0.1:{gport}", "--workers", "4", "--threads", "2", "provhub.app:create_app()"]
    serve = [
        sys.executable,
        "-c",
        "from provhub.app.cli import main; main()",
        "serve",
        "--port",
        str(sport),
        "--no-sample",
    ]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for cmd in (gunicorn, serve)
    ]
    try:
        urls = f"http://127.0.0.1:{gport}", f"http://127.0.0.1:{sport}"
        for url, proc in zip(urls, procs, strict=True):
            wait_up(url, proc)
        yield urls[0], urls[1], env
    finally:
        for proc in procs:
            stop_process(proc)


def new_token(env, *args) -> str:
    r = CliRunner().invoke(load_commands(), ["tokens", "create", *args], env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output.strip().splitlines()[-1]


def test_many_processes_one_store(tier, oidc_provider):
    gunicorn, serve, env = tier
    writer = {"Authorization": "Bearer " + new_token(env, "--role", "writer", "--group", "hess")}
    other = {"Authorization": "Bearer " + new_token(env, "--role", "reader", "--group", "magic")}
    # a token the CLI made a moment ago is valid in every process at once
    for url in (gunicorn, serve):
        assert requests.get(url + "/documents", headers=writer, timeout=10).status_code == 200

    failures: list[str] = []
    busy: list[str] = []

    def write(w: int) -> None:
        for i in range(EACH):
            url = (gunicorn, serve)[(w + i) % 2]
            for _ in range(60):  # 503 busy (a process parses a few documents at a time): retry, as pipelines do
                r = requests.post(url + "/documents", data=doc(w * 100 + i), headers={**PN, **writer}, timeout=60)
                if r.status_code != 503:
                    break
                busy.append(url)
                time.sleep(0.2)
            if r.status_code != 201:
                failures.append(f"{url}: {r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    # a proprietary document posted through one process
    r = requests.post(
        serve + "/documents?rights=proprietary&group=hess",
        data=doc(99999).replace("obs_id", "secret_note"),
        headers={**PN, **writer},
        timeout=30,
    )
    assert r.status_code == 201
    secret = r.json()["id"]
    for url in (gunicorn, serve):
        listing = requests.get(url + "/documents?limit=1", headers=writer, timeout=10).json()
        assert listing["total"] == WRITERS * EACH + 1
        assert requests.get(url + "/documents?limit=1", headers=other, timeout=10).json()["total"] == WRITERS * EACH
        assert requests.get(f"{url}/documents/{secret}", headers=other, timeout=10).status_code == 404
        assert requests.get(f"{url}/documents/{secret}", headers=writer, timeout=10).status_code == 200

    # a browser signed in through gunicorn is signed in at the other process too
    oidc_provider.user = User("alice", {"wlcg.groups": ["/hess"], "preferred_username": "alice"})
    browser = requests.Session()
    back = browser.get(gunicorn + "/login?next=/documents", allow_redirects=False, timeout=10)
    answer = browser.get(back.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    assert (
        browser.get(gunicorn + f"{callback.path}?{callback.query}", allow_redirects=False, timeout=10).status_code
        == 302
    )
    for url in (serve, gunicorn):
        me = browser.get(url + "/login/session", timeout=10).json()
        assert me["signed_in"] and me["name"] == "alice", url
        assert browser.get(f"{url}/documents/{secret}", headers=PN, timeout=10).status_code == 200
