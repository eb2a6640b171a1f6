"""The built field app at /m/ (frontend/field/dist): files with the right types and caching,
index.html for the app's routes, and a short Chinese page when there is no build."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client


@pytest.fixture
def dist(tmp_path: Path, settings: object) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>网格通</title>", encoding="utf-8")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (tmp_path / "manifest.webmanifest").write_text('{"name": "网格通"}', encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "index-abc123.css").write_text("body{}")
    (tmp_path / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    settings.FIELD_APP_DIST = str(tmp_path)  # type: ignore[attr-defined]
    return tmp_path


def body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", ["/m/", "/m/today", "/m/household/12", "/m/#/today"])
def test_index_for_the_app_and_its_routes(dist: Path, client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert "网格通" in body(response).decode()


def test_no_slash_redirects(dist: Path, client: Client) -> None:
    response = client.get("/m")
    assert response.status_code == 301 and response["Location"] == "/m/"


def test_service_worker_and_manifest_are_never_cached(dist: Path, client: Client) -> None:
    sw = client.get("/m/sw.js")
    assert sw.status_code == 200
    assert sw["Content-Type"].startswith("text/javascript")
    assert sw["Cache-Control"] == "no-cache"
    assert sw["Service-Worker-Allowed"] == "/m/"
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest["Cache-Control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year(dist: Path, client: Client) -> None:
    js = client.get("/m/assets/index-abc123.js")
    assert js["Content-Type"].startswith("text/javascript")
    assert js["Cache-Control"] == "public, max-age=31536000, immutable"
    css = client.get("/m/assets/index-abc123.css")
    assert css["Content-Type"].startswith("text/css")
    icon = client.get("/m/icon-192.png")
    assert icon["Content-Type"] == "image/png" and "max-age=3600" in icon["Cache-Control"]


@pytest.mark.parametrize(
    "url", ["/m/assets/gone-123.js", "/m/missing.png", "/m/../pyproject.toml", "/m/%2e%2e/x"]
)
def test_missing_files_and_escapes_are_404(dist: Path, client: Client, url: str) -> None:
    assert client.get(url).status_code == 404


def test_gzipped_for_browsers_that_ask(dist: Path, client: Client) -> None:
    (dist / "assets" / "big-1.js").write_text("console.log('网格');\n" * 500, encoding="utf-8")
    response = client.get("/m/assets/big-1.js", headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"].startswith("text/javascript")


def test_not_modified_since(dist: Path, client: Client) -> None:
    first = client.get("/m/sw.js")
    again = client.get("/m/sw.js", headers={"If-Modified-Since": first["Last-Modified"]})
    assert again.status_code == 304


def test_without_a_build_a_chinese_page_says_so(
    tmp_path: Path, settings: object, client: Client
) -> None:
    settings.FIELD_APP_DIST = str(tmp_path / "nothing")  # type: ignore[attr-defined]
    response = client.get("/m/")
    assert response.status_code == 503
    text = response.content.decode()
    assert "尚未构建" in text and "make field" in text
