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

from carereg.env import env_bool, env_database, env_int, env_list, env_redis_url, env_str

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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA foreign_keys=ON;", "timeout": 20}
    # Tests use a file, not memory: an in-memory database shared between threads (live
    # server, Celery worker) fails a writer at once instead of waiting for the lock.
    DATABASES["default"]["TEST"] = {"NAME": f"{tempfile.gettempdir()}/carereg-test-{os.getpid()}.sqlite3"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:dashboard"
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
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
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
# With no broker configured, tasks run in-process so the app works right after checkout.
CELERY_BROKER_URL = env_redis_url("CELERY_BROKER_URL") or env_redis_url("REDIS_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results could hold PHI; nothing reads them
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# A task not acknowledged within the visibility timeout is given to another worker, so every
# time limit stays well under it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SOFT_TIME_LIMIT = 900
CELERY_TASK_TIME_LIMIT = 1200
# A save must not hang on a dead broker: fail fast, and the nightly run catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CAREREG_BASE_URL = env_str("CAREREG_BASE_URL", "http://127.0.0.1:8000")

# --- Cache: a store every web process shares (the FHIR rate limits count in it) -----------
# Redis when one is configured (CACHE_URL, else the broker's); otherwise files in one
# directory, shared by the processes of one host (the SQLite default runs on one host).
CACHE_URL = env_redis_url("CACHE_URL") or CELERY_BROKER_URL
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env_str("CACHE_DIR", str(BASE_DIR / "var" / "cache")),
    }
}

# --- Mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "carereg@localhost")

# --- Logging: requests are logged by path only; paths carry ids, never names --------------
# JSON lines with the request id (audit/structured_logs.py); LOG_FORMAT=plain for reading by eye.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "audit.structured_logs.RequestIdFilter"},
        "no_query_strings": {"()": "audit.structured_logs.NoQueryStringFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "audit.structured_logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("LOG_FORMAT", "json"),
            "filters": ["request_id", "no_query_strings"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handlers write unfiltered lines (django.server: the request line with its
        # query string): everything goes through the one console handler above instead.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# The access log takes the client's address from X-Forwarded-For only behind our own proxy.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
CAREREG_EMERGENCY_ACCESS_HOURS = env_int("CAREREG_EMERGENCY_ACCESS_HOURS", 4)

# --- Clinical defaults (clinical-rules.md); clinics may override where a field exists -----
CAREREG_PAGE_SIZE = 50

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
