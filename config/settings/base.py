"""Settings shared by every environment. Values come from the environment (django-environ).

With no environment at all this is the embedded set-up: SQLite next to the code and Celery
running tasks eagerly in the web process, so one command runs the whole product on a laptop.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# ---------------------------------------------------------------------------- core
SECRET_KEY = env("SECRET_KEY", default="dev-only-not-secret-7f3c1d2e9a8b4c6d5e0f1a2b3c4d5e6f")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "core",
    "grids",
    "residents",
    "points",
    "volunteers",
    "reports",
    "field",  # the grid worker's phone app (issue 11): its bundle, and the build at /m/
    "demo",  # the top floor: demo and scale data; it imports the apps, no app imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# ---------------------------------------------------------------------------- database
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The threaded dev server writes from several threads. IMMEDIATE transactions take the write
    # lock at BEGIN, so a second writer waits (up to `timeout` seconds) instead of failing with
    # "database is locked" half-way through; WAL lets readers go on while one thread writes.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#sqlite-transaction-behavior
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------- cache
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-cache-url
# Holds, among others, an uploaded import file between its preview and its confirmation, so
# with several web hosts it must be shared (e.g. CACHE_URL=redis://host:6379/2).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# ---------------------------------------------------------------------------- auth
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # residents on to /me/, staff to the admin

# ---------------------------------------------------------------------------- i18n
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------- static
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded photos of needs. In production point MEDIA_ROOT at storage every web host shares.
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# The field app's build (`make field`: frontend/field, Vite), served at /m/.
FIELD_APP_DIST = env.path("FIELD_APP_DIST", default=str(BASE_DIR / "frontend" / "field" / "dist"))
# A phone photo after the client shrinks it; larger uploads are refused with a 400.
NEED_PHOTO_MAX_BYTES = env.int("NEED_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)

# ---------------------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "core.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "网格化治理与积分制 API",
    "DESCRIPTION": (
        "Grid governance with points incentives. Every create accepts an `Idempotency-Key` "
        "header: the same key and body returns the first response; another body answers 409."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: the docs work without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets named once where several models have a field of the same name.
    "ENUM_NAME_OVERRIDES": {
        "NeedStatusEnum": "residents.models.Need.Status",
        "NeedCategoryEnum": "residents.models.Need.Category",
    },
}

# ---------------------------------------------------------------------------- Celery
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# With no broker configured, tasks run in-process at once: the embedded set-up needs no worker.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only when done, and given back if its worker dies: long jobs (the
# quarterly close) must be safe to run again, and are written so.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Time limits stay under the broker's visibility timeout, so Redis never hands a task that is
# still running to a second worker.
CELERY_TASK_TIME_LIMIT = 50 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 45 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BEAT_SCHEDULE = {
    "ensure-current-period": {
        "task": "points.tasks.ensure_current_period",
        "schedule": crontab(hour=0, minute=5),
    },
    # The quarterly redemption: windows opened at quarter end where a community asks for it,
    # and orders not collected by the deadline refunded (both idempotent).
    "open-due-redemptions": {
        "task": "points.tasks.open_due_redemptions",
        "schedule": crontab(hour=0, minute=15),
    },
    "refund-uncollected-orders": {
        "task": "points.tasks.refund_uncollected",
        "schedule": crontab(hour=1, minute=30),
    },
    # The monthly council (议事会): next month's planned on the 1st for every community; each
    # agenda fixed the day after its cut-off (both idempotent).
    "plan-next-month-councils": {
        "task": "grids.tasks.plan_next_month_councils",
        "schedule": crontab(day_of_month=1, hour=2, minute=10),
    },
    "fix-due-council-agendas": {
        "task": "grids.tasks.fix_due_agendas",
        "schedule": crontab(hour=0, minute=40),
    },
    "purge-idempotency-keys": {
        "task": "core.tasks.purge_idempotency_keys",
        "schedule": crontab(hour=3, minute=17),
    },
    # Needs: overdue ones escalated to the community, then the street; resolved ones that
    # nobody rated in time closed (both idempotent).
    "escalate-overdue-needs": {
        "task": "residents.tasks.escalate_overdue_needs",
        "schedule": crontab(hour=0, minute=30),
    },
    "close-unrated-needs": {
        "task": "residents.tasks.close_unrated_needs",
        "schedule": crontab(hour=0, minute=40),
    },
}

# ---------------------------------------------------------------------------- product
# How long a stored Idempotency-Key answer is replayed before it is purged.
IDEMPOTENCY_KEY_TTL = timedelta(days=env.int("IDEMPOTENCY_KEY_TTL_DAYS", default=7))
DEMO_PASSWORD = env("DEMO_PASSWORD", default="demo-pass-2026")
# Needs (需求): an overdue need goes to the community the day after its due date, and to the
# street once it is this many days overdue; a resident rates a resolved need within this many
# days (then it closes unrated); a low rating's rectification (整改) is due this many days on.
NEED_STREET_ESCALATION_DAYS = env.int("NEED_STREET_ESCALATION_DAYS", default=3)
NEED_RATING_DAYS = env.int("NEED_RATING_DAYS", default=7)
NEED_RECTIFICATION_DAYS = env.int("NEED_RECTIFICATION_DAYS", default=7)
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The uploaded file waits for confirmation in the cache (expires after a day), not in a local
# /tmp that another web host cannot read and that would keep ID numbers on disk.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

ADMIN_SITE_TITLE = _("Grid governance")

# ---------------------------------------------------------------------------- reports
# The grid worker's quarterly assessment (reports/workers/): the weight of each component in
# the 0–100 score. Only the ratios matter; a component with no data is left out and the other
# weights are scaled up. E.g. ASSESSMENT_WEIGHTS=coverage=40,on_time=30,rating=15,council=15
ASSESSMENT_WEIGHTS = {
    "coverage": 30,  # share of the worker's households visited in the quarter (不漏一户)
    "on_time": 30,  # needs due in the quarter closed by their due date
    "rating": 20,  # residents' average rating of the worker's needs
    "council": 20,  # the council's average score of the worker's agenda items
    **{k: int(v) for k, v in env.dict("ASSESSMENT_WEIGHTS", default={}).items()},
}
# A need recorded without a due date counts as handled on time when resolved within this many
# days (Beijing dates, the day of recording not counted) — in the needs figures.
NEED_DEFAULT_DAYS = env.int("NEED_DEFAULT_DAYS", default=7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
