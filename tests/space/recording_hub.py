"""A stand-in for the Hugging Face Hub on 127.0.0.1 that records every request (method, path, Authorization).

It answers 404 to everything except the OpenID discovery document Gradio's OAuth asks for at start. Tests
read `requests` to prove which token, if any, each Hub call carried. No machine here reaches the real Hub."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingHub:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                hub.requests.append({"method": self.command, "path": self.path,
                                     "authorization": self.headers.get("Authorization") or ""})
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = json.dumps({"issuer": hub.url, "authorization_endpoint": hub.url + "/oauth/authorize",
                                       "token_endpoint": hub.url + "/oauth/token",
                                       "userinfo_endpoint": hub.url + "/oauth/userinfo",
                                       "jwks_uri": hub.url + "/oauth/jwks"}).encode()
                    self.send_response(200)
                else:
                    body = json.dumps({"error": "Repository Not Found"}).encode()
                    self.send_response(404)
                    self.send_header("X-Error-Code", "RepoNotFound")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "RecordingHub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()

    def with_token(self, token: str) -> list[dict]:
        return [r for r in self.requests if token in r["authorization"]]
