"""Issue 22: the scale-out compose files agree with each other, with the proxy's configuration
and with the image. No Docker engine runs here, so this is what can be checked without one: the
proxy publishes the port its nginx listens on, it sends to the service name and port the app
containers serve, the replicas publish no port of their own (the proxy is the only way in), and
every file they mount or build from exists. docs/deployment.md ("Scale-out") says how to run it."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

DOCKER = ROOT / "docker"


class _Loader(yaml.SafeLoader):
    """Compose's YAML: ``!reset`` (compose 2.24+) takes away what the base file set."""


_Loader.add_constructor("!reset", lambda loader, node: None)


def _load(name: str) -> dict:
    return yaml.load((DOCKER / name).read_text(), Loader=_Loader)  # noqa: S506 (a SafeLoader)


def _merged() -> dict:
    """docker-compose.yml with docker-compose.scale.yml over it, as ``docker compose -f a -f b``
    merges them: mappings key by key, a ``!reset`` value removed."""

    def merge(base, over):
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            for key, value in over.items():
                if value is None:
                    out.pop(key, None)
                else:
                    out[key] = merge(base.get(key), value)
            return out
        return over

    return merge(_load("docker-compose.yml"), _load("docker-compose.scale.yml"))


def _port_of(published: str) -> str:
    """The container port of a compose ``ports`` entry (``"${PROVHUB_PORT:-8080}:8080"``)."""
    return str(published).rsplit(":", 1)[-1]


def test_the_proxy_is_the_only_way_in_and_reaches_every_replica():
    compose = _merged()
    services = compose["services"]
    app, proxy = services["provhub"], services["proxy"]
    assert "ports" not in app, "a replica publishes a port: requests would bypass the proxy"
    assert str(app["deploy"]["replicas"]).startswith("${PROVHUB_REPLICAS")
    assert "provhub" in proxy["depends_on"]

    mounts = [v.split(":") for v in proxy["volumes"]]
    conf = next(DOCKER / src for src, dst, *_ in mounts if dst.startswith("/etc/nginx/"))
    assert conf.is_file(), conf
    nginx = conf.read_text()
    listen = re.search(r"^\s*listen\s+(\d+);", nginx, re.M)
    upstream = re.search(r"upstream\s+(\w+)\s*\{[^}]*server\s+([\w.-]+):(\d+)", nginx, re.S)
    assert listen and upstream
    assert [_port_of(p) for p in proxy["ports"]] == [listen.group(1)]
    assert re.search(rf"proxy_pass\s+http://{upstream.group(1)};", nginx)
    name, port = upstream.group(2), upstream.group(3)
    assert name in services, f"the proxy sends to {name!r}, not a service of the compose files"

    dockerfile = (ROOT / app["build"]["context"].replace("..", ".") / app["build"]["dockerfile"]).resolve()
    assert dockerfile.is_file()
    image = dockerfile.read_text()
    assert re.search(rf'"--bind", "0\.0\.0\.0:{port}"', image), f"the image does not serve port {port}"
    assert re.search(rf"^EXPOSE {port}$", image, re.M)
    for copied in re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s", image, re.M):
        assert (ROOT / copied).exists(), f"the image copies {copied}, which is not in the repository"


def test_the_replicas_share_one_store_and_keep_no_state_of_their_own():
    app = _merged()["services"]["provhub"]
    env = app["environment"]
    assert env["PROVHUB_STORE_URL"].startswith(("bolt://", "neo4j://")), "replicas on an embedded file"
    assert env["PROVHUB_STORE_URL"].split("//")[1].split(":")[0] in _merged()["services"]
    for name in ("PROVHUB_OIDC_ISSUERS", "PROVHUB_OIDC_CLIENT_ID", "PROVHUB_OIDC_CLIENT_SECRET"):
        assert name in env  # sign-in works through any replica: the session cookie is keyed by the store's secret


def test_the_image_installs_the_locked_versions():
    """The image builds from the package and the lock CI tested (the layout moved once and the
    image still copied the old folders), with the driver's Rust codec of the locked driver."""
    image = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^COPY provhub \./provhub$", image, re.M)
    assert "pip install -c requirements/ci.txt ." in image
    locked = re.search(r"^neo4j==(\S+)$", (ROOT / "requirements" / "ci.txt").read_text(), re.M)
    rust = re.search(r'"neo4j-rust-ext==(\S+)"', image)
    assert locked and rust and rust.group(1).startswith(locked.group(1) + "."), (locked, rust)
