"""A real Bolt server for the tests: ArcadeDB's native build (``arcadedb==26.11.1.dev2``).

Neo4j itself cannot be installed on the CI machines (see docs/deployment.md); ArcadeDB speaks
Bolt 5 and the Neo4j 5 Cypher subset the backend uses. The server runs in a child process
(``python -m tests.bolt_server DIR``) so that tests can kill it (issue 7's fault tests) and so
that its ``./log`` lands in ``DIR``, not in the repository.

``start_bolt_server(workdir)`` returns a :class:`BoltServer` once a real query answers;
``reset(store_or_url)`` empties the database between tests. When ``PROVHUB_TEST_NEO4J_URL`` is
set, :func:`external_server` describes that server instead (user/password/database from
``PROVHUB_TEST_NEO4J_USER``/``_PASSWORD``/``_DATABASE``) and nothing is started.
"""

from __future__ import annotations

import os
import re
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

USER = "root"
PASSWORD = "provhub-test-pw"
DATABASE = "provhub"
READY_TIMEOUT = 60.0
ROOT = pathlib.Path(__file__).resolve().parent.parent


@dataclass
class BoltServer:
    """A Bolt server the tests may use; ``stop()`` ends it (no-op for an external server)."""

    url: str
    user: str = USER
    password: str = PASSWORD
    database: str = DATABASE
    process: subprocess.Popen | None = field(default=None, repr=False)
    workdir: pathlib.Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def settings(self, **overrides):
        """A :class:`provhub.app.config.Settings` that points at this server."""
        from provhub.app.config import Settings

        values = dict(
            store_url=self.url,
            neo4j_user=self.user,
            neo4j_password=self.password,
            neo4j_database=self.database,
            store_timeout=10.0,
        )
        values.update(overrides)
        return Settings(**values)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def restart(self) -> "BoltServer":
        """Stop (if running) and start again on the same port and directory; returns self."""
        self.stop()
        fresh = start_bolt_server(self.workdir, port=self.port)
        self.process = fresh.process
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process)
        self.process = None


def stop_process(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM a child process, SIGKILL it if it has not ended within ``timeout`` seconds, and
    close its stdout pipe (the Bolt server here, the benchmarks' service)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    if proc.stdout:
        proc.stdout.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def external_server() -> BoltServer | None:
    url = os.environ.get("PROVHUB_TEST_NEO4J_URL")
    if not url:
        return None
    return BoltServer(
        url=url,
        user=os.environ.get("PROVHUB_TEST_NEO4J_USER", "neo4j"),
        password=os.environ.get("PROVHUB_TEST_NEO4J_PASSWORD", ""),
        database=os.environ.get("PROVHUB_TEST_NEO4J_DATABASE", ""),
    )


def start_bolt_server(workdir: pathlib.Path, timeout: float = READY_TIMEOUT, port: int | None = None) -> BoltServer:
    """Start ArcadeDB with Bolt on a free loopback port in a child process; wait until it answers.

    ``port`` (with the same ``workdir``) restarts a stopped or killed server on its old address.
    """
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    argv = [sys.executable, "-m", "tests.bolt_server", str(workdir)] + ([str(port)] if port else [])
    proc = subprocess.Popen(argv, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = _read_port(proc, timeout)
    server = BoltServer(url=f"bolt://127.0.0.1:{port}", process=proc, workdir=workdir)
    threading.Thread(target=_drain, args=(proc, workdir / "arcadedb.out"), daemon=True).start()
    try:
        wait_until_answers(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _read_port(proc: subprocess.Popen, timeout: float) -> int:
    box: list = []

    def read():
        for line in proc.stdout:
            found = re.search(r"BOLT_PORT (\d+)", line)
            if found:
                box.append(int(found.group(1)))
                return
            box.append(line)  # anything else before the port is a diagnostic

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    ports = [x for x in box if isinstance(x, int)]
    if not ports:
        proc.kill()
        proc.wait(timeout=30)
        output = "".join(x for x in box if isinstance(x, str))
        raise RuntimeError(f"ArcadeDB Bolt server did not start within {timeout}s:\n{output}")
    return ports[0]


def _drain(proc: subprocess.Popen, path: pathlib.Path) -> None:
    """Keep the server's output (its log) in ``path`` so that its pipe never fills."""
    try:
        with open(path, "a", encoding="utf-8") as out:
            for line in proc.stdout:
                out.write(line)
                out.flush()
    except (ValueError, OSError):  # closed by stop()
        pass


def wait_until_answers(server: BoltServer, timeout: float = READY_TIMEOUT) -> None:
    """The Bolt port opens before the database exists: wait for a real query."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import Neo4jError, DriverError

    deadline = time.monotonic() + timeout
    with GraphDatabase.driver(server.url, auth=(server.user, server.password), connection_timeout=2.0) as driver:
        while True:
            try:
                driver.execute_query("RETURN 1 AS one", database_=server.database or None)
                return
            except (Neo4jError, DriverError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


RESET_BATCH = 10_000


def reset(store_or_url, user: str = USER, password: str = PASSWORD, database: str = DATABASE) -> None:
    """Empty the database: DETACH DELETE in batches, each in its own managed transaction.

    Accepts a :class:`provhub.app.stores.neo4j.Neo4jStore` (its driver is reused), a :class:`BoltServer`,
    an :class:`provhub.app.config.Settings` (store_url and neo4j_*), or a Bolt URL (with the other
    arguments). Constraints and indexes stay (the store creates them idempotently).
    """
    from neo4j import GraphDatabase

    driver = getattr(store_or_url, "driver", None)
    if driver is not None:
        _delete_all(driver, store_or_url.database)
        return
    if isinstance(store_or_url, BoltServer):
        url, user, password, database = (
            store_or_url.url,
            store_or_url.user,
            store_or_url.password,
            store_or_url.database,
        )
    elif hasattr(store_or_url, "store_url"):
        s = store_or_url
        url, user, password, database = s.store_url, s.neo4j_user, s.neo4j_password, s.neo4j_database
    else:
        url = store_or_url
    with GraphDatabase.driver(url, auth=(user, password)) as own:
        _delete_all(own, database or None)


def _delete_all(driver, database) -> None:
    def batch(tx):
        return tx.run("MATCH (n) WITH n LIMIT $n DETACH DELETE n RETURN count(*) AS c", n=RESET_BATCH).single()["c"]

    with driver.session(database=database) as session:
        while session.execute_write(batch):
            pass


# -- the child process -------------------------------------------------------------------------


def serve(workdir: pathlib.Path, bolt_port: int | None = None) -> None:
    """Run ArcadeDB until SIGTERM/SIGINT; print ``BOLT_PORT <port>`` once Bolt listens."""
    from arcadedb import create_server
    from arcadedb.exceptions import ArcadeDBError

    os.chdir(workdir)  # ArcadeDB writes ./log relative to the cwd
    bolt_port, http_port = bolt_port or free_port(), free_port()
    srv = create_server(
        str(workdir / "databases"),
        root_password=PASSWORD,
        config={
            "host": "127.0.0.1",
            "http_port": http_port,
            "bolt_port": bolt_port,
            "bolt_host": "127.0.0.1",
            "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "bolt_defaultDatabase": DATABASE,
        },
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    parent = os.getppid()
    # A test run that dies without stop() must not leave the server behind: stop when orphaned.
    threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    srv.start()
    try:
        try:
            srv.create_database(DATABASE)
        except ArcadeDBError:  # a restart on the same directory: the database exists
            srv.get_database(DATABASE)
        print(f"\nBOLT_PORT {bolt_port}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        srv.stop()


def _watch_parent(parent: int, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()


if __name__ == "__main__":
    serve(pathlib.Path(sys.argv[1]).resolve(), int(sys.argv[2]) if len(sys.argv) > 2 else None)
