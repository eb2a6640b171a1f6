"""Settings read from the environment: production refuses to start without a SECRET_KEY and
passes `check --deploy`; with no environment the embedded SQLite set-up is the default.

Each case runs in a subprocess with a clean environment, so nothing from the test run leaks in."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DUMP = """
import json, importlib, sys
s = importlib.import_module(sys.argv[1])
db = s.DATABASES["default"]
print(json.dumps({
    "LANGUAGE_CODE": s.LANGUAGE_CODE,
    "TIME_ZONE": s.TIME_ZONE,
    "USE_TZ": s.USE_TZ,
    "DEBUG": s.DEBUG,
    "SECRET_KEY": s.SECRET_KEY,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "OPTIONS": db.get("OPTIONS", {}),
    "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
}))
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra)
    return env


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(module: str, **env: str) -> dict:
    proc = run(["-c", DUMP, module], **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def secret_key() -> str:
    return secrets.token_urlsafe(64)


def test_production_passes_check_deploy_with_no_warning(secret_key):
    proc = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="example.org",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
    assert "WARNING" not in proc.stderr


def test_production_refuses_to_start_without_a_secret_key():
    proc = run(
        ["manage.py", "check", "--deploy"],
        DJANGO_SETTINGS_MODULE="config.settings.production",
        ALLOWED_HOSTS="example.org",
    )
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "SECRET_KEY" in proc.stderr


def test_production_refuses_to_start_without_allowed_hosts(secret_key):
    proc = run(["-c", DUMP, "config.settings.production"], SECRET_KEY=secret_key)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "ALLOWED_HOSTS" in proc.stderr


def test_production_uses_the_given_secret_key_and_hosts_and_no_debug(secret_key):
    s = settings_of(
        "config.settings.production",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="example.org,www.example.org",
        DEBUG="true",  # ignored: production never debugs
    )
    assert s["SECRET_KEY"] == secret_key
    assert s["ALLOWED_HOSTS"] == ["example.org", "www.example.org"]
    assert s["DEBUG"] is False


@pytest.mark.parametrize(
    "module", ["config.settings.base", "config.settings.production", "config.settings.test"]
)
def test_language_is_simplified_chinese_and_time_is_shanghai(module, secret_key):
    s = settings_of(module, SECRET_KEY=secret_key, ALLOWED_HOSTS="example.org")
    assert (s["LANGUAGE_CODE"], s["TIME_ZONE"], s["USE_TZ"]) == ("zh-hans", "Asia/Shanghai", True)


def test_with_no_database_url_the_default_is_sqlite_in_immediate_mode_with_a_timeout():
    s = settings_of("config.settings.base")
    assert s["ENGINE"] == "django.db.backends.sqlite3"
    assert s["NAME"] == str(ROOT / "db.sqlite3")
    assert s["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert s["OPTIONS"]["timeout"] >= 5
    assert "journal_mode=WAL" in s["OPTIONS"]["init_command"]


def test_a_database_url_selects_postgresql_with_persistent_connections():
    s = settings_of("config.settings.base", DATABASE_URL="postgres://u:p@db.example.org:5432/gp")
    assert s["ENGINE"] == "django.db.backends.postgresql"
    assert s["NAME"] == "gp"
    assert "transaction_mode" not in s["OPTIONS"]
    assert s["CONN_MAX_AGE"] == 60


def test_without_a_secret_key_the_development_settings_still_start():
    s = settings_of("config.settings.local")
    assert s["SECRET_KEY"].startswith("dev-only")
