"""The review server answers only its own page, with its token, and never serves a file outside the roots."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.review.conftest import FIXTURES, serve
from xmpcull.review.model import inside_roots, load_model
from xmpcull.review.server import COOKIE, LOOPBACK, ReviewServer


def _client(server: ReviewServer, token: bool = True) -> httpx.Client:
    base = f"http://{LOOPBACK}:{server.session.port}"
    cookies = {COOKIE: server.session.token} if token else {}
    return httpx.Client(base_url=base, cookies=cookies, follow_redirects=False, timeout=30)


def test_every_request_needs_the_token(server: ReviewServer) -> None:
    with _client(server, token=False) as client:
        assert client.get("/queue").status_code == 403
        assert client.get("/preview/0/thumb").status_code == 403
        assert client.get("/static/review.js").status_code == 403
        assert client.get("/queue", params={"token": "wrong"}).status_code == 403
        first = client.get("/", params={"token": server.session.token})
        assert first.status_code == 303 and "token" not in first.headers["location"]
        assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
    with _client(server) as client:
        assert client.get("/queue").status_code == 200


def test_a_foreign_host_or_origin_is_refused(server: ReviewServer) -> None:
    with _client(server) as client:
        assert client.get("/queue", headers={"Host": "evil.example"}).status_code == 403
        assert client.get("/queue", headers={"Host": f"127.0.0.1:{server.session.port + 1}"}).status_code == 403
        assert client.get("/queue", headers={"Origin": "http://evil.example"}).status_code == 403
        assert client.get("/queue", headers={"Origin": f"http://{LOOPBACK}:{server.session.port}"}).status_code == 200


def test_decisions_are_post_only_with_the_token_header(server: ReviewServer) -> None:
    decision = {"item": 0, "action": "rating", "value": 3}
    with _client(server) as client:
        assert client.get("/api/decide", params=decision).status_code in (404, 405)
        assert client.post("/api/decide", json=decision).status_code == 403  # cookie alone is not enough
        refused = client.post("/api/decide", json={"item": 0, "action": "explode"},
                              headers={"X-Xmpcull-Token": server.session.token})
        assert refused.status_code == 409 and "unknown action" in refused.json()["error"]


@pytest.mark.parametrize("path", [
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static//etc/passwd",
    "/preview/..%2f..%2fetc%2fpasswd/thumb",
    "/preview/-1/thumb",
    "/preview/99999/thumb",
    "/preview/0/../../../etc/passwd",
    "//etc/passwd",
])
def test_no_path_outside_is_served(server: ReviewServer, path: str) -> None:
    with _client(server) as client:
        response = client.get(path)
    assert response.status_code in (400, 403, 404, 405)
    assert b"root:" not in response.content


def test_a_symlink_out_of_the_roots_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    shutil.copy(FIXTURES / "photos" / "portrait.jpg", outside / "secret.jpg")
    shutil.copy(FIXTURES / "photos" / "portrait.jpg", root / "inside.jpg")
    os.symlink(outside / "secret.jpg", root / "link.jpg")
    report = root / ".xmpcull" / "report.json"
    report.parent.mkdir()
    images = [{"path": str(root / n), "relpath": n, "root": str(root), "decision": "ok"} for n in ("inside.jpg", "link.jpg")]
    images.append({"path": str(outside / "secret.jpg"), "relpath": "../outside/secret.jpg", "root": str(root), "decision": "ok"})
    report.write_text(json.dumps({"version": 1, "roots": [str(root)], "groups": [], "similar_sets": [], "images": images}))
    model = load_model(report)
    assert [inside_roots(i.path, model.roots) for i in model.items] == [True, False, False]
    server = serve(model, tmp_path / "previews")
    try:
        with _client(server) as client:
            assert client.get("/preview/0/thumb").status_code == 200
            assert client.get("/preview/1/thumb").status_code == 403
            assert client.get("/preview/2/thumb").status_code == 403
    finally:
        server.stop()
    assert sorted(p.name for p in root.rglob("*")) == [".xmpcull", "inside.jpg", "link.jpg", "report.json"]
    assert list((tmp_path / "previews").rglob("*.jpg"))  # previews go to the cache folder only
