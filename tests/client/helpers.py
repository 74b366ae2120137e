"""A real provhub service on loopback, and a proxy in front of it that can drop replies."""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse

from werkzeug.serving import make_server


def writer_tokens(store, *groups: str) -> dict[str, str]:
    """A writer API token for each group (the token's name is the group's), saved in ``store``."""
    from provhub.app.access import hash_token, new_token
    from provhub.app.stores.base import TokenRecord

    tokens = {}
    for who in groups:
        tokens[who] = new_token()
        store.save_token(
            TokenRecord(
                id=who,
                name=who,
                role="writer",
                groups=[who],
                hash=hash_token(tokens[who]),
                created_at="2026-01-01T00:00:00Z",
            )
        )
    return tokens


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class Proxy:
    """Forwards each request to ``upstream``. ``drop`` replies are lost (the request reaches the
    service, its answer does not reach the caller: the connection is closed instead);
    ``busy`` requests are answered 503/429 with Retry-After without reaching the service."""

    def __init__(self, upstream: str, drop: int = 0, busy: list | None = None):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.drop, self.busy = drop, list(busy or [])
        self.seen: list[tuple[str, bytes]] = []  # (method path, body) reaching the service
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    busy = proxy.busy.pop(0) if proxy.busy else None
                if busy:
                    status, retry_after = busy
                    self.send_response(status)
                    self.send_header("Retry-After", str(retry_after))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                with proxy.lock:
                    proxy.seen.append((f"{self.command} {self.path}", body))
                    lose = proxy.drop > 0
                    if lose:
                        proxy.drop -= 1
                if lose:  # the service did the work; its reply is lost on the way
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
