"""A fake admin web UI for the exposure probe tests (CLI and TUI): a real HTTP(S) server on
127.0.0.1 with the behaviours exposed admin interfaces have, recording every request it got so a
test can assert that no credential was ever sent."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import trustme

HOSTILE_TITLE = "Dash\x1b]52;c;ZXZpbA==\x07board [bold]x[/bold]"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    client_cert: Any = None


@dataclass
class FakeAdminUI:
    """A small web server with the behaviours exposed admin interfaces have."""

    https: bool = False
    seen: list[Seen] = field(default_factory=list)
    huge_bytes_sent: int = 0
    server: ThreadingHTTPServer | None = None
    ca: trustme.CA | None = None
    # "/gate" answers like "/open" once this is set: a test holds a probe in flight with it
    gate: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        assert self.server is not None
        scheme = "https" if self.https else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def start(self) -> FakeAdminUI:
        ui = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                cert = self.connection.getpeercert() if ui.https else None
                ui.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, cert))
                page = self.path.split("?")[0]
                if page in ("/open", "/"):
                    body = b"<html><head><title>Kubernetes Dashboard</title></head><body>pods</body></html>"
                    self.reply(200, body, Server="nginx/1.25", Set_Cookie="session=SERVER-SESSION-abc")
                elif page == "/basic":
                    self.reply(401, b"no", WWW_Authenticate='Basic realm="kibana"')
                elif page == "/to-login":
                    self.reply(302, Location="/login?next=/")
                elif page == "/login":
                    form = b'<title>Sign in</title><form><input type="password" name="p"></form>'
                    self.reply(200, form)
                elif page == "/off-host":
                    self.reply(302, Location="http://elsewhere.invalid/steal")
                elif page == "/cookie":
                    self.reply(302, Location="/open", Set_Cookie="sid=SERVER-COOKIE-xyz; Path=/")
                elif page == "/hostile":
                    self.reply(200, f"<title>{HOSTILE_TITLE}</title>".encode())
                elif page == "/error":
                    self.reply(500, b"boom")
                elif page == "/gate":
                    ui.gate.wait(30)
                    self.reply(200, b"<title>Gated</title>")
                elif page == "/slow":
                    time.sleep(3)
                    self.reply(200, b"late")
                elif page == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10 * 2**20))
                    self.end_headers()
                    chunk = b"<title>Grafana</title>" + b"x" * 65_514
                    try:
                        for _ in range(160):
                            self.wfile.write(chunk)
                            ui.huge_bytes_sent += len(chunk)
                    except OSError:
                        pass
                else:
                    self.reply(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.https:
            self.ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1").configure_cert(context)
            self.ca.configure_trust(context)
            context.verify_mode = ssl.CERT_OPTIONAL  # records a client certificate if one were sent
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.gate.set()  # a request still held at the gate must not keep shutdown() waiting
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def assert_no_credentials_sent(ui: FakeAdminUI) -> None:
    assert ui.seen, "the probe reached the server"
    for request in ui.seen:
        assert "authorization" not in request.headers, request
        assert "cookie" not in request.headers, request
        assert "proxy-authorization" not in request.headers
        assert request.client_cert in (None, {}), "no client certificate is presented"
