"""A stand-in for the Hugging Face Hub on 127.0.0.1 that records every request (method, path, Authorization).

It answers 404 to everything except the OpenID discovery document Gradio's OAuth asks for at start and the repos a
test adds with `add_repo` (info with file sizes, and each file at /resolve/<commit>/<path>, as huggingface_hub asks
for them). Tests read `requests` to prove which token, if any, each Hub call carried. No machine here reaches the
real Hub."""
from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


class RecordingHub:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.repos: dict[tuple[str, str], dict] = {}  # (kind 'models'/'datasets', id) -> sha, files, listing
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                hub.requests.append({"method": self.command, "path": self.path,
                                     "authorization": self.headers.get("Authorization") or ""})
                served = hub.serve(self.command, self.path)
                if served is not None:
                    status, headers, body = served
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return
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

    def add_repo(self, kind: str, repo_id: str, files: dict[str, bytes], sha: str | None = None,
                 listing: dict[str, int | None] | None = None) -> str:
        """Serve a repo ('models' or 'datasets'): its info lists `listing` ({path: size}, default the files' own
        sizes; a path listed there need not exist) and each file is served at any revision. Returns the commit."""
        sha = sha or hashlib.sha1(repr(sorted(files)).encode() + repo_id.encode()).hexdigest()
        self.repos[(kind, repo_id)] = {"sha": sha, "files": files,
                                       "listing": listing if listing is not None else
                                       {p: len(b) for p, b in files.items()}}
        return sha

    def serve(self, method: str, raw_path: str) -> tuple[int, dict, bytes] | None:
        """(status, headers, body) for a request about an added repo, else None."""
        path = unquote(urlsplit(raw_path).path)
        for (kind, repo_id), repo in self.repos.items():
            api = f"/api/{kind}/{repo_id}"
            if path == api or path.startswith(api + "/revision/"):
                info = {"id": repo_id, "sha": repo["sha"], "private": False,
                        "siblings": [{"rfilename": p, "size": s} if s is not None else {"rfilename": p}
                                     for p, s in repo["listing"].items()]}
                return 200, {"Content-Type": "application/json"}, json.dumps(info).encode()
            if path.startswith(api + "/tree/"):  # /tree/<revision>[/<folder>]: the folder's direct children
                rest = path[len(api + "/tree/"):].split("/", 1)
                folder = rest[1].strip("/") + "/" if len(rest) > 1 and rest[1].strip("/") else ""
                children = [{"type": "file", "path": p, "size": s or 0, "oid": hashlib.sha1(p.encode()).hexdigest()}
                            for p, s in repo["listing"].items() if p.startswith(folder) and "/" not in p[len(folder):]]
                if not children and folder:
                    return 404, {"X-Error-Code": "EntryNotFound", "Content-Type": "application/json"}, b"{}"
                return 200, {"Content-Type": "application/json"}, json.dumps(children).encode()
            prefix = ("/datasets/" if kind == "datasets" else "/") + repo_id + "/resolve/"
            if path.startswith(prefix):
                file = path[len(prefix):].split("/", 1)[1] if "/" in path[len(prefix):] else ""
                if file in repo["files"]:
                    body = repo["files"][file]
                    return 200, {"X-Repo-Commit": repo["sha"], "ETag": f'"{hashlib.sha256(body).hexdigest()}"',
                                 "Content-Type": "application/octet-stream"}, body
                return 404, {"X-Error-Code": "EntryNotFound", "Content-Type": "application/json"}, b"{}"
        return None

    def paths(self, text: str) -> list[str]:
        """The request paths that contain `text`."""
        return [r["path"] for r in self.requests if text in unquote(r["path"])]

    def with_token(self, token: str) -> list[dict]:
        return [r for r in self.requests if token in r["authorization"]]
