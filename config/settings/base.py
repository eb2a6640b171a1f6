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
    "axes",  # failed-login limits (issue 13): see "login protection" below
    "core",
    "grids",
    "residents",
    "points",
    "volunteers",
    "reports",
    "field",  # the grid worker's phone app (issue 11): its bundle, and the build at /m/
    "demo",  # the top floor: demo and scale data; it imports the apps, no app imports it
    "audit",  # issue 13: the audit log of personal data (who saw, exported, changed what)
    "notifications",  # issue 14: notifications (in-app, e-mail, SMS) and the daily digest
]

MIDDLEWARE = [
    # /healthz and /readyz, answered before the host check and the HTTPS redirect (core.health).
    "core.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS and JS) served by gunicorn itself, compressed, with hashed
    # names cached for a year: https://whitenoise.readthedocs.io/en/stable/django.html
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditMiddleware",  # after authentication: who saw a full ID number
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by the lockout into the lockout answer (core.login_protection).
    "axes.middleware.AxesMiddleware",
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
                # The links between a user's own phone pages (partner, team leader, resident).
                "core.landing.role_pages_context",
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
# ---------------------------------------------------------------------------- login protection
# django-axes counts failed logins (the API token, /accounts/login/, /admin/login/) per
# username and per IP address, in the database (every web host sees the same counts). Past a
# limit the login is refused for the cool-off time, with a Chinese message (JSON 429 under
# /api/, a page elsewhere); a committee member or street admin unlocks their area's users in
# the admin (系统 → 登录锁定). https://django-axes.readthedocs.io/en/latest/4_configuration.html
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the rest
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "core.login_protection.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Failed logins of one username, and from one IP address (a village office or a mobile
# carrier puts many people behind one address, so it gets more), before the lockout.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_CALLABLE = "core.login_protection.lockout_response"
# Tries during a lockout do not push its end further: the time the message gives holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # a good password clears that username's failures
AXES_ENABLE_ADMIN = True  # the raw attempts and access logs, for superusers
AXES_HTTP_RESPONSE_CODE = 429
# The client's address: REMOTE_ADDR, or behind N trusted proxies (deploy/nginx.conf: 1) the
# address the outermost one appended to X-Forwarded-For (what a client sends itself is ignored).
AXES_CLIENT_IP_CALLABLE = "core.login_protection.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# API tokens (`/api/v1/auth/token/`) stop working this many hours after they were issued (the
# client logs in again); 0 keeps them until `/api/v1/auth/logout/`.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 30)
LOGIN_REDIRECT_URL = "home"  # each role on to its own page (core.landing), staff to the admin

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
# The dashboard's build (`make dashboard`: frontend/dashboard, Vite), served as static files
# dashboard/dashboard.js and dashboard/dashboard.css for the /dashboard/ page (issue 12). Listed
# only once built, so a checkout without Node.js passes `check` (the page then says "not built").
DASHBOARD_DIST = Path(
    env.path("DASHBOARD_DIST", default=str(BASE_DIR / "frontend" / "dashboard" / "dist"))
)
STATICFILES_DIRS = [("dashboard", DASHBOARD_DIST)] if DASHBOARD_DIST.is_dir() else []
# A phone photo after the client shrinks it; larger uploads are refused with a 400.
NEED_PHOTO_MAX_BYTES = env.int("NEED_PHOTO_MAX_BYTES", default=5 * 1024 * 1024)

# ---------------------------------------------------------------------------- REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ExpiringTokenAuthentication",
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
    # The error answers documented too (core/schema.py), so clients and schemathesis know them.
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
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
        "RatingLevelEnum": "residents.models.Rating.Level",
        "UnitLevelEnum": ["grid", "community", "street"],  # reports.selectors.LEVELS
        # issue 15: entries (Entry, MyEntry), account units (Account.unit, Me.account_unit)
        "EntryKindEnum": "points.models.ledger.Entry.Kind",
        "AccountUnitEnum": "points.models.claims.Policy.AccountUnit",
        "RuleCategoryEnum": "points.models.claims.Rule.Category",
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
# With Redis, a task whose worker was killed goes back to the queue after this many seconds
# (CELERY_VISIBILITY_TIMEOUT; the real-kill test of the close uses a few seconds).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60)
}
# Where beat keeps its schedule's state: a writable place (deploy/ sets it for the services).
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule")
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
    # The yearly reset of exchange points (双轨制, issue 15) where a community sets a date:
    # once a year per community, whenever beat first runs on or after the date.
    "reset-exchange-points": {
        "task": "points.tasks.reset_exchange_points",
        "schedule": crontab(hour=0, minute=20),
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
    # Proof of life for /readyz: a timestamp written every minute by whichever worker runs it.
    "heartbeat": {
        "task": "core.tasks.heartbeat",
        "schedule": 60.0,
    },
    "prune-audit-log": {
        "task": "audit.tasks.prune_audit_events",
        "schedule": crontab(hour=3, minute=27),
    },
    # The street dashboards' snapshots (issue 12), idempotent.
    "refresh-dashboard-snapshots": {
        "task": "reports.tasks.refresh_dashboard_snapshots",
        "schedule": crontab(minute=f"*/{env.int('DASHBOARD_SNAPSHOT_MINUTES', default=10)}"),
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
    # Notifications (issue 14): SMS held for the quiet hours or the hourly limit go out when
    # their time comes; the grid workers' daily digest; tomorrow's volunteer activities.
    "send-held-notifications": {
        "task": "notifications.tasks.send_held",
        "schedule": crontab(minute="*/10"),
    },
    "worker-daily-digest": {
        "task": "notifications.tasks.send_worker_digests",
        "schedule": crontab(hour=7, minute=30),
    },
    "remind-activities-tomorrow": {
        "task": "notifications.tasks.remind_activities_tomorrow",
        "schedule": crontab(hour=10, minute=0),
    },
}

# ---------------------------------------------------------------------------- health
# /healthz answers while the process is up; /readyz checks the database, the migrations and,
# with a broker configured, the broker (within this many seconds) and the age of the last
# Celery heartbeat (core.tasks.heartbeat, every minute from beat): older than this, not ready.
HEALTH_BROKER_TIMEOUT = env.float("HEALTH_BROKER_TIMEOUT", default=2.0)
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=5 * 60)

# ---------------------------------------------------------------------------- product
# How long a stored Idempotency-Key answer is replayed before it is purged.
IDEMPOTENCY_KEY_TTL = timedelta(days=env.int("IDEMPOTENCY_KEY_TTL_DAYS", default=7))
# The audit log (audit/): rows older than this are pruned daily (China's Cybersecurity Law asks
# for at least six months of logs). The client's address is the one the login limits use
# (TRUSTED_PROXY_COUNT). More full ID numbers than the limit shown at once (an export) make one
# summary row instead of one per resident.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
AUDIT_REVEAL_DETAIL_LIMIT = env.int("AUDIT_REVEAL_DETAIL_LIMIT", default=200)
# The key the points audit export's manifest is signed with (HMAC-SHA256, points.audit_export).
# Empty: derived from SECRET_KEY with a salt of its own; set it to keep old exports verifiable
# when SECRET_KEY is rotated.
AUDIT_EXPORT_KEY = env("AUDIT_EXPORT_KEY", default="")
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
# The points anomaly report (积分异常核查, reports/points-anomalies/, issue 15): per quarter and
# community, the claims a committee should look at twice. A worker is flagged whose claims (or
# points) reach FACTOR × the median of the community's submitters and who made at least
# MIN_CLAIMS; a resident with SAME_DAY_CLAIMS claims or more dated one day; a submitter →
# approver pair with PAIR_REPEATS or more approvals each within QUICK_SECONDS of submission;
# a reversal of REVERSAL_POINTS points or more. See reports.anomalies.
POINTS_ANOMALY_WORKER_MEDIAN_FACTOR = env.float("POINTS_ANOMALY_WORKER_MEDIAN_FACTOR", default=3.0)
POINTS_ANOMALY_WORKER_MIN_CLAIMS = env.int("POINTS_ANOMALY_WORKER_MIN_CLAIMS", default=20)
POINTS_ANOMALY_SAME_DAY_CLAIMS = env.int("POINTS_ANOMALY_SAME_DAY_CLAIMS", default=4)
POINTS_ANOMALY_QUICK_SECONDS = env.int("POINTS_ANOMALY_QUICK_SECONDS", default=30)
POINTS_ANOMALY_PAIR_REPEATS = env.int("POINTS_ANOMALY_PAIR_REPEATS", default=10)
POINTS_ANOMALY_REVERSAL_POINTS = env.int("POINTS_ANOMALY_REVERSAL_POINTS", default=20)
# The grid map (网格地图) on the dashboard: the tile layer's URL template, e.g.
# https://tile.openstreetmap.org/{z}/{x}/{y}.png (WGS-84) or a Chinese provider's (GCJ-02, to
# match boundaries recorded in GCJ-02). Empty: the boundaries on a plain background.
MAP_TILE_URL = env("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", default="")
# At most this many household points on one map (a street of a million residents has more).
MAP_MAX_HOUSEHOLDS = env.int("MAP_MAX_HOUSEHOLDS", default=5000)
# The dashboard of a whole street is read from a snapshot (reports.models.DashboardSnapshot)
# recomputed by beat every DASHBOARD_SNAPSHOT_MINUTES (default 10, in CELERY_BEAT_SCHEDULE),
# and on the spot once older than DASHBOARD_SNAPSHOT_MAX_AGE; communities and grids are live.
DASHBOARD_SNAPSHOT_LEVELS = ("street",)
DASHBOARD_SNAPSHOT_MAX_AGE = timedelta(
    minutes=env.int("DASHBOARD_SNAPSHOT_MAX_AGE_MINUTES", default=30)
)

# ---------------------------------------------------------------------------- notifications
# Issue 14 (notifications/): in-app always; e-mail to users with an address (Django's mail
# framework: EMAIL_URL, e.g. smtp://user:pass@smtp.example.com:587, default the console);
# SMS to residents without a login, through SMS_BACKEND.
NOTIFICATIONS_EMAIL = env.bool("NOTIFICATIONS_EMAIL", default=True)
NOTIFICATIONS_EMAIL_SUBJECT_PREFIX = env(
    "NOTIFICATIONS_EMAIL_SUBJECT_PREFIX", default="【网格积分】"
)
NOTIFICATIONS_SITE_URL = env("NOTIFICATIONS_SITE_URL", default="")  # prefixed to e-mailed links
NOTIFICATIONS_MAX_RETRIES = env.int("NOTIFICATIONS_MAX_RETRIES", default=5)
# seconds before the first retry, doubled at each (with jitter), at most the maximum
NOTIFICATIONS_RETRY_BACKOFF = env.int("NOTIFICATIONS_RETRY_BACKOFF", default=60)
NOTIFICATIONS_RETRY_BACKOFF_MAX = env.int("NOTIFICATIONS_RETRY_BACKOFF_MAX", default=3600)
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = EMAIL_CONFIG["EMAIL_BACKEND"]
EMAIL_HOST = EMAIL_CONFIG.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = EMAIL_CONFIG.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = EMAIL_CONFIG.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = EMAIL_CONFIG.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = EMAIL_CONFIG.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = EMAIL_CONFIG.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="gridpoints@localhost")
# SMS (短信): notifications.sms.ConsoleSmsBackend (default), FileSmsBackend (SMS_FILE_PATH),
# AliyunSmsBackend (pip install 'gridpoints[sms]'; https://help.aliyun.com/zh/sms/).
SMS_BACKEND = env("SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
SMS_SIGN_NAME = env("SMS_SIGN_NAME", default="网格积分")
SMS_FILE_PATH = env("SMS_FILE_PATH", default="sms.log")
# event → the provider's template code: SMS_TEMPLATES=claim_approved=SMS_123,order_ready=SMS_4
SMS_TEMPLATES = env.dict("SMS_TEMPLATES", default={})
SMS_MAX_PER_HOUR = env.int("SMS_MAX_PER_HOUR", default=5)  # per phone number; 0: no limit
SMS_QUIET_START = env.int("SMS_QUIET_START", default=21)  # no SMS from 21:00 …
SMS_QUIET_END = env.int("SMS_QUIET_END", default=8)  # … to 08:00, Beijing time
ALIYUN_SMS_ACCESS_KEY_ID = env("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_ENDPOINT = env("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
# Balance by SMS (issue 14, points.sms_balance): the inbound webhook POST /sms/inbound/ answers
# a texted card number with its balance, only to the resident's own phone. Off by default; it
# needs the secret shared with the provider (HMAC-SHA256 of the body in X-Signature). Replies
# per phone number and hour are limited (0: no limit).
SMS_INBOUND_ENABLED = env.bool("SMS_INBOUND_ENABLED", default=False)
SMS_INBOUND_SECRET = env("SMS_INBOUND_SECRET", default="")
SMS_INBOUND_MAX_PER_HOUR = env.int("SMS_INBOUND_MAX_PER_HOUR", default=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
