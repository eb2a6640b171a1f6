"""The test suite. The database is whatever DATABASE_URL says (SQLite by default; CI runs the
suite a second time against PostgreSQL)."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
LANGUAGE_CODE = "zh-hans"

# Uploaded photos go to a throwaway folder, not the checkout's media/.
import tempfile  # noqa: E402

MEDIA_ROOT = tempfile.mkdtemp(prefix="gridpoints-media-")
