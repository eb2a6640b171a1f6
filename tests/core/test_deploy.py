"""Production as deploy/ runs it: gunicorn alone serves the admin with its static files
(WhiteNoise, hashed and compressed names), `check --deploy` is clean with the environment
deploy/compose.yaml sets, and the compose services, the Dockerfile and the systemd units run
the README's commands.

Each server runs in a subprocess with a clean environment and production settings; nothing is
built or pulled (docker is not needed)."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def readme_production_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        if line.startswith(".venv/bin/"):
            commands.append(line.split("  #", 1)[0].strip())
    return commands


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def compose_env(**given: str) -> dict[str, str]:
    """The app's environment in compose.yaml, with ${VAR:?…} from `given`, ${VAR:-x} as x."""
    env = {}
    for name, value in compose()["x-app"]["environment"].items():
        value = str(value)
        value = re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: given[m.group(1)], value)
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: given.get(m.group(1), m.group(2)), value)
        env[name] = value
    return env


# ---------------------------------------------------------------------------- static files


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """collectstatic into a temporary STATIC_ROOT, then gunicorn with deploy/gunicorn.conf.py
    on a free loopback port: (port, STATIC_ROOT)."""
    tmp = tmp_path_factory.mktemp("production")
    static_root = tmp / "static"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="grid.example.org",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        STATIC_ROOT=str(static_root),
    )
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr
    port = free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(port, "/healthz", host="127.0.0.1")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz in 60 s"
            time.sleep(0.3)
        yield port, static_root
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def get(
    port: int, path: str, *, host: str = "grid.example.org", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    """A GET as nginx would forward it (HTTPS at the proxy)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, "X-Forwarded-Proto": "https", **headers})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_gunicorn_alone_serves_the_admin_and_its_hashed_stylesheet(gunicorn):
    port, static_root = gunicorn
    status, _headers, body = get(port, "/admin/login/")
    assert status == 200, body[:500]
    page = body.decode()
    match = re.search(r'href="(/static/admin/css/base\.([0-9a-f]{12})\.css)"', page)
    assert match, "the admin page links no hashed stylesheet"
    assert (static_root / "admin" / "css" / f"base.{match.group(2)}.css").is_file()

    status, headers, css = get(port, match.group(1))
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert b"body" in css
    # A hashed name never changes content: cached for ten years, immutable.
    assert "max-age=315360000" in headers["cache-control"]
    assert "immutable" in headers["cache-control"]


def test_the_static_files_are_served_compressed_to_who_accepts_it(gunicorn):
    port, _static_root = gunicorn
    page = get(port, "/admin/login/")[2].decode()
    href = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page).group(1)
    plain = get(port, href)[2]
    status, headers, body = get(port, href, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == plain
    assert len(body) < len(plain)


def test_an_unhashed_or_unknown_static_name_is_not_found(gunicorn):
    port, _static_root = gunicorn
    assert get(port, "/static/admin/css/no-such-file.css")[0] == 404


def test_the_probes_answer_over_plain_http_by_address(gunicorn):
    port, _static_root = gunicorn
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/healthz", headers={"Host": f"127.0.0.1:{port}"})
    r = conn.getresponse()
    assert (r.status, r.read()) == (200, b'{"status": "ok"}')
    conn.close()


# ---------------------------------------------------------------------------- deploy/


def test_check_deploy_is_clean_with_the_environment_compose_sets():
    env = compose_env(
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="grid.example.org",
        POSTGRES_PASSWORD="secret",
    )
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["SECURE_SSL_REDIRECT"] == "true"
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


def test_the_compose_services_run_the_readme_commands():
    commands = readme_production_commands()
    services = compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("migrate", "web", "worker", "beat"):
        command = " ".join(services[name]["command"])
        assert command in commands, (name, command, commands)
    # collectstatic runs when the image is built.
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    collect = next(c for c in commands if "collectstatic" in c)
    assert collect in dockerfile
    # The web's container is healthy when /healthz answers.
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("unit", ["web", "worker", "beat"])
def test_the_systemd_units_run_the_readme_commands(unit):
    text = (DEPLOY / "systemd" / f"gridpoints-{unit}.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=/srv/gridpoints/(.+)$", text, re.M).group(1)
    assert exec_start in readme_production_commands()
    assert "EnvironmentFile=/etc/gridpoints/env" in text
    assert "Environment=DJANGO_SETTINGS_MODULE=config.settings.production" in text


def test_the_gunicorn_config_takes_its_values_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9001")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert (conf["bind"], conf["workers"], conf["timeout"]) == ("127.0.0.1:9001", 3, 45)
    assert conf["accesslog"] == "-"
    monkeypatch.delenv("GUNICORN_WORKERS")
    assert 1 <= runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["workers"] <= 8


def test_nginx_forwards_the_client_address_and_scheme_the_app_relies_on():
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_pass http://gridpoints;" in text
    assert "TRUSTED_PROXY_COUNT" in compose()["x-app"]["environment"]
