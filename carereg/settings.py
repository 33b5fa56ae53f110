"""CareReg settings: one file, driven by the environment.

Unset variables give a development set-up that runs right after checkout (SQLite, tasks run
in-process). Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS;
with DEBUG off the HTTPS and cookie hardening is on unless CAREREG_HTTPS=false says the
deployment is plain HTTP on purpose (local testing only).
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from carereg.env import (
    env_bool,
    env_broker_url,
    env_database,
    env_int,
    env_list,
    env_owner_credentials,
    env_redis_url,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
# Without SECRET_KEY, management commands (migrations, checks) still run on a development
# key; serving with DEBUG off refuses it (carereg/wsgi.py), and check --deploy flags it.
INSECURE_DEV_SECRET = "django-insecure-dev-only-key-never-used-in-production-0123456789abcdefghij"
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEV_SECRET)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accounts",
    "patients",
    "registry",
    "consults",
    "care",
    "interchange",
    "selfreport",
    "fhirapi",
    "audit",
]

MIDDLEWARE = [
    "audit.structured_logs.RequestIdMiddleware",  # first: every log line of the request has its id
    "carereg.proxy.TrustedProxyMiddleware",  # before anything reads the scheme or the client's address
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "carereg.middleware.NoStoreMiddleware",  # after WhiteNoise: static files stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.OTPSessionMiddleware",  # django-otp's, without a query per request
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.sessions.SessionLimitsMiddleware",
    "accounts.middleware.MfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "audit.middleware.AccessLogMiddleware",
    "accounts.middleware.ClinicTimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
    "carereg.errors.SavedAtMiddleware",  # inside the clinic's time zone: the time a person saw
]

ROOT_URLCONF = "carereg.urls"
WSGI_APPLICATION = "carereg.wsgi.application"

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
                "accounts.permissions.template_permissions",
                "consults.context_processors.unread_notices",
            ],
        },
    },
]

DATABASES = {
    "default": env_database(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite keeps no pooled connections, and its test database should live in memory.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The web server and the embedded worker write to the same file. IMMEDIATE makes a
    # transaction take the write lock when it begins, so a second writer waits out the timeout;
    # a deferred transaction that reads and then writes fails at once with "database is locked"
    # when another holds the lock. WAL lets pages read while a job writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    # Tests use a file, not memory: an in-memory database shared between threads (live
    # server, Celery worker) fails a writer at once instead of waiting for the lock.
    DATABASES["default"]["TEST"] = {"NAME": f"{tempfile.gettempdir()}/carereg-test-{os.getpid()}.sqlite3"}
# `manage.py migrate` logs in as the tables' owner when DATABASE_OWNER_URL is set (the same
# database, another role); the app and workers connect as DATABASE_URL, a role that cannot
# alter tables nor rewrite the audit log (docs/security.md#database-roles).
DATABASE_OWNER = env_owner_credentials("DATABASE_OWNER_URL", DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:home"  # each role's own home page
LOGOUT_REDIRECT_URL = "login"
# axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Form widgets are drawn from the project's templates, so that templates/django/forms/ can
# leave out "maxlength" (a browser cuts pasted text there without a word).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security: on by default whenever DEBUG is off -------------------------------------
HTTPS = env_bool("CAREREG_HTTPS", default=not DEBUG)
_hsts_seconds = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = _hsts_seconds if HTTPS else 0
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"

# --- Sign-in: two factors, lockout, automatic logoff (accounts/) --------------------------
OTP_TOTP_ISSUER = "CareReg"
# Failed logins lock out that username from that address (axes) for the cool-off time.
AXES_FAILURE_LIMIT = env_int("CAREREG_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CAREREG_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "carereg.proxy.client_address"  # the access log's too
AXES_VERBOSE = False  # log only the lockout parameters (masked), and no banner at every start
# Signed out after this many minutes without a request, and at the latest this many hours
# after logging in, whatever the activity.
CAREREG_IDLE_TIMEOUT_MINUTES = env_int("CAREREG_IDLE_TIMEOUT_MINUTES", 15)
CAREREG_SESSION_MAX_HOURS = env_int("CAREREG_SESSION_MAX_HOURS", 12)
# Content Security Policy (django-csp): only our own scripts, styles, images and forms; no
# inline script or style anywhere (templates use classes in static/css). Bootstrap's CSS draws
# its form controls with data: SVG images, hence data: for images only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

# --- Celery -------------------------------------------------------------------------------
# Redis in production. With no broker configured, the embedded default: kombu's SQLAlchemy
# transport on a SQLite file beside the database, so `make run` runs a worker and the beat
# schedule with no server (docs/deployment.md#the-embedded-default).
_DATA_DIR = (
    Path(DATABASES["default"]["NAME"]).parent
    if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != ":memory:"
    else BASE_DIR
)
_broker = env_broker_url("CELERY_BROKER_URL") or env_redis_url("REDIS_URL")
CELERY_BROKER_URL = _broker or f"sqla+sqlite:///{_DATA_DIR / 'celery-broker.sqlite3'}"
CAREREG_EMBEDDED_BROKER = CELERY_BROKER_URL.startswith("sqla+")
# The Redis the deployment configured (None on the embedded default), for what else shares it.
CAREREG_REDIS_URL = None if CAREREG_EMBEDDED_BROKER else CELERY_BROKER_URL
# Tasks go to the broker for a worker; CAREREG_TASKS_IN_PROCESS=true runs them in the
# process that queues them instead (a set-up with no worker at all). Tests run them in-process.
CELERY_TASK_ALWAYS_EAGER = env_bool("CAREREG_TASKS_IN_PROCESS", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results could hold PHI; nothing reads them
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A task not acknowledged within the visibility timeout is given to another worker, so every
# time limit stays well under it. (The SQLAlchemy transport hands its options to SQLAlchemy's
# create_engine, which takes no such option; it never delivers a message twice.)
REDIS_VISIBILITY_TIMEOUT = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {} if CAREREG_EMBEDDED_BROKER else {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT}
# Remote control needs a fanout exchange, which the SQLAlchemy transport lacks.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = not CAREREG_EMBEDDED_BROKER
# Beat's record of its last runs, beside the data: a nightly run missed while the machine
# was off is run when beat starts again.
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", str(_DATA_DIR / "celerybeat-schedule"))
CELERY_TASK_SOFT_TIME_LIMIT = 900
CELERY_TASK_TIME_LIMIT = 1200
# A save must not hang on a dead broker: fail fast, and the sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CAREREG_BASE_URL = env_str("CAREREG_BASE_URL", "http://127.0.0.1:8000")
# Flag refreshes still pending are drained this often (registry/outbox.py): flags are true
# within about this long after any fault. A worker's claim on a refresh lasts the lease; a
# claim whose worker died is taken over after it, so it must outlast the longest refresh.
CAREREG_FLAG_SWEEP_SECONDS = env_int("CAREREG_FLAG_SWEEP_SECONDS", 60)
CAREREG_FLAG_REFRESH_LEASE_SECONDS = env_int("CAREREG_FLAG_REFRESH_LEASE_SECONDS", 300)

# --- Cache: a store every web process shares (the FHIR rate limits count in it) -----------
# Redis when one is configured (CACHE_URL, else the broker's); otherwise files in one
# directory, shared by the processes of one host (the SQLite default runs on one host).
CACHE_URL = env_redis_url("CACHE_URL") or CAREREG_REDIS_URL
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env_str("CACHE_DIR", str(BASE_DIR / "var" / "cache")),
    }
}

# --- Mail ---------------------------------------------------------------------------------
# The console backend is for development: with DEBUG off, check --deploy refuses it (audit/checks.py).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "carereg@localhost")
# The SMTP server, for EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Text messages to patients (selfreport/sms, docs/sms.md#settings) ----------------------
# Chosen as EMAIL_BACKEND is: console (development), filebased (SMS_FILE_PATH), locmem (tests),
# twilio (production, with the TWILIO_* variables).
SMS_BACKEND = env_str("SMS_BACKEND", "selfreport.sms.backends.console.SmsBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", "")
SMS_DEFAULT_REGION = env_str("SMS_DEFAULT_REGION", "US")  # numbers typed without a country code
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")  # also checks the signature of Twilio's webhooks
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")

# --- Logging: requests are logged by path only; paths carry ids, never names --------------
# JSON lines with the request id (audit/structured_logs.py); LOG_FORMAT=plain for reading by eye.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "audit.structured_logs.RequestIdFilter"},
        "no_query_strings": {"()": "audit.structured_logs.NoQueryStringFilter"},
        "no_link_tokens": {"()": "audit.structured_logs.NoLinkTokenFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "audit.structured_logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("LOG_FORMAT", "json"),
            "filters": ["request_id", "no_query_strings", "no_link_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers write unfiltered lines (django.server: the request line with its
        # query string): everything goes through the one console handler above instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "twilio": {"level": "WARNING"},  # its client logs every API request's headers at INFO
    },
}
# Behind our own reverse proxy, X-Forwarded-Proto and X-Forwarded-For are believed, and only
# from the proxy's addresses (carereg/proxy.py): the scheme, and the client's address for the
# access log and lockouts. Addresses or networks, comma-separated.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", ["127.0.0.1", "::1"])
CAREREG_EMERGENCY_ACCESS_HOURS = env_int("CAREREG_EMERGENCY_ACCESS_HOURS", 4)

# --- Clinical defaults (docs/clinical-definitions.md); clinics may override where a field exists ---
CAREREG_PAGE_SIZE = 50

# --- Registry CSV imports (docs/data-formats.md#import-limits) -----------------------------
# An upload holds at most this many data rows in all its files (larger ones: manage.py
# import_registry); above the second figure it is imported by a Celery worker, not in the request.
CAREREG_IMPORT_MAX_ROWS = env_int("CAREREG_IMPORT_MAX_ROWS", 50_000)
CAREREG_IMPORT_BACKGROUND_ROWS = env_int("CAREREG_IMPORT_BACKGROUND_ROWS", 500)
# Where a background import's files wait for the worker: a folder the web server and the
# workers both reach, readable by the app's user only. Each upload's files are deleted once imported.
CAREREG_IMPORT_DIR = Path(env_str("CAREREG_IMPORT_DIR", str(BASE_DIR / "var" / "imports")))

# --- FHIR interface (docs/fhir.md) ----------------------------------------------------------
# Requests larger or deeper than this are refused (413, 400) before they are parsed.
CAREREG_FHIR_MAX_BODY_BYTES = env_int("CAREREG_FHIR_MAX_BODY_BYTES", 1_000_000)
CAREREG_FHIR_MAX_JSON_DEPTH = env_int("CAREREG_FHIR_MAX_JSON_DEPTH", 64)
# Requests a minute, per API client and per client address (429 with Retry-After beyond).
CAREREG_FHIR_RATE_PER_CLIENT = env_int("CAREREG_FHIR_RATE_PER_CLIENT", 600)
CAREREG_FHIR_RATE_PER_ADDRESS = env_int("CAREREG_FHIR_RATE_PER_ADDRESS", 1200)
# Search pages: the size without _count, and the most _count may ask for.
CAREREG_FHIR_PAGE_SIZE = env_int("CAREREG_FHIR_PAGE_SIZE", 100)
CAREREG_FHIR_MAX_COUNT = env_int("CAREREG_FHIR_MAX_COUNT", 500)
# SMART Backend Services: access tokens live this long (the specification recommends 5 minutes).
CAREREG_SMART_TOKEN_SECONDS = env_int("CAREREG_SMART_TOKEN_SECONDS", 300)
# Bulk export files: where they are written, and how long they are kept after the export.
CAREREG_BULK_EXPORT_DIR = env_str("CAREREG_BULK_EXPORT_DIR", str(BASE_DIR / "var" / "bulk-export"))
CAREREG_BULK_EXPORT_RETENTION_HOURS = env_int("CAREREG_BULK_EXPORT_RETENTION_HOURS", 24)
