"""The test suite. The database is whatever DATABASE_URL says (SQLite by default; CI runs the
suite a second time against PostgreSQL)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
LANGUAGE_CODE = "zh-hans"

# Uploaded photos go to a throwaway folder, not the checkout's media/.
import pathlib  # noqa: E402
import tempfile  # noqa: E402

MEDIA_ROOT = tempfile.mkdtemp(prefix="gridpoints-media-")

# Failed-login limits stay on (core.login_protection); counts live in the test database, so
# each test starts with none. Only `Client.login()`, which passes no request, is let through.
AUTHENTICATION_BACKENDS = [
    "core.login_protection.RequestOptionalAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# collectstatic's output (WhiteNoise serves it) in a throwaway folder, not the checkout's.
STATIC_ROOT = pathlib.Path(tempfile.mkdtemp(prefix="gridpoints-static-"))

# Notifications (issue 14): SMS are kept in notifications.sms.outbox.
SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
