"""Settings for Shidian.

Two profiles, chosen by ``SHIDIAN_ENV``:

* ``embedded`` (the default): no configuration at all. SQLite under var/, generated keys kept in
  var/, an in-memory cache, the job queue in var/jobs.sqlite3 run by a thread of the server.
* ``production``: everything from the environment, checked here; a missing or unsafe value stops
  the process with the list of what to set (see deploy/README.md and deploy/shidian.env).
"""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHIDIAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


SHIDIAN_ENV = os.environ.get("SHIDIAN_ENV", "embedded").strip().lower() or "embedded"
if SHIDIAN_ENV not in ("embedded", "production"):
    raise ImproperlyConfigured(f"SHIDIAN_ENV must be 'embedded' or 'production', not {SHIDIAN_ENV!r}")
PRODUCTION = SHIDIAN_ENV == "production"

DEBUG = env_bool("SHIDIAN_DEBUG", False)
# The embedded default runs on a laptop with a generated key kept in var/; production sets it.
SECRET_KEY = os.environ.get("SHIDIAN_SECRET_KEY") or ""
if not SECRET_KEY and not PRODUCTION:
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("SHIDIAN_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost")

if PRODUCTION:
    from shidian.ops.profile import production_problems

    _problems = production_problems(os.environ)
    if _problems:
        raise ImproperlyConfigured(
            "SHIDIAN_ENV=production refuses to start until these are set "
            "(deploy/shidian.env lists them all):\n  - " + "\n  - ".join(_problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "shidian.core",
    "shidian.orgs",
    "shidian.plans",
    "shidian.reporting",
    "shidian.indicators",
    "shidian.cases",
    "shidian.oversight",
    "shidian.catalogue",
    "shidian.selection",
    "shidian.web",
    "shidian.api",
    "shidian.demo",
    "huey.contrib.djhuey",
    "shidian.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
    "shidian.ops.replicas.ReplicaMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'shidian.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboard read while a liaison's report is being written.
    DATABASES["default"]["OPTIONS"] = {
        # A writer waits up to 20 s for another (the server's tick thread, a cron tick, an
        # import) instead of failing after SQLite's default 5 s on a busy laptop.
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Read replicas (streaming replicas of the primary): dashboards read from them, everything else
# and every write goes to the primary (shidian/ops/replicas.py, deploy/README.md).
SHIDIAN_READ_REPLICAS: list[str] = []
for _n, _url in enumerate(env_list("SHIDIAN_REPLICA_URLS"), start=1):
    _alias = f"replica{_n}"
    DATABASES[_alias] = dj_database_url.parse(_url, conn_max_age=60, conn_health_checks=True)
    DATABASES[_alias]["TEST"] = {"MIRROR": "default"}
    SHIDIAN_READ_REPLICAS.append(_alias)
if SHIDIAN_READ_REPLICAS:
    DATABASE_ROUTERS = ["shidian.ops.replicas.ReplicaRouter"]

# Cache: per process in the embedded default; Redis shared by every app server in production.
SHIDIAN_REDIS_URL = os.environ.get("SHIDIAN_REDIS_URL", "redis://127.0.0.1:6379/0")
if PRODUCTION:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": SHIDIAN_REDIS_URL, "KEY_PREFIX": "shidian"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Jobs (huey): the embedded default keeps the queue in var/jobs.sqlite3 and a thread of the
# process that queued a job runs it; production queues in Redis and `shidian run_huey` (the
# worker, deploy/shidian-worker.service) runs them and the periodic tick. Under pytest a job
# runs at once in the caller, so tests never share a queue with a running dev server.
if PRODUCTION:
    HUEY = {"huey_class": "huey.RedisHuey", "name": "shidian", "url": SHIDIAN_REDIS_URL,
            "immediate": False, "results": False,
            "consumer": {"workers": int(os.environ.get("SHIDIAN_WORKER_THREADS", 2)),
                         "worker_type": "thread", "periodic": True}}
else:
    HUEY = {"huey_class": "huey.SqliteHuey", "name": "shidian",
            "filename": str(VAR_DIR / "jobs.sqlite3"), "results": False,
            "immediate": env_bool("SHIDIAN_JOBS_IMMEDIATE", "PYTEST_VERSION" in os.environ),
            "consumer": {"workers": 1, "worker_type": "thread", "periodic": False}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock after 5 failures per user name, unlocked by an administrator.
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username"]
# Whole township offices share one NAT address on government intranets: locking by address
# would lock them all out, so failures are counted per user name only.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_COOLOFF_TIME = None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/account/locked.html"

SESSION_COOKIE_AGE = int(os.environ.get("SHIDIAN_SESSION_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout, not absolute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "shidian.web.views.errors.csrf_failure"  # in Chinese, says nothing was saved
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    # Behind nginx, which terminates TLS and says so in X-Forwarded-Proto (deploy/nginx).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SHIDIAN_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # One year; preload only matters once the host is submitted to the browsers' list.
    SECURE_HSTS_SECONDS = int(os.environ.get("SHIDIAN_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("SHIDIAN_CSRF_TRUSTED_ORIGINS") or [
        f"https://{h.lstrip('.')}" for h in ALLOWED_HOSTS if h != "*"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# One catalog per area (shidian/locale/<area>/zh_Hans/...), so parallel work never collides.
LOCALE_PATHS = sorted(p for p in (BASE_DIR / "shidian" / "locale").glob("*") if p.is_dir())
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("SHIDIAN_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: `shidian collectstatic` writes hashed, pre-compressed names nginx serves with
    # a far-future expiry; the embedded default serves the app's files as they are.
    "staticfiles": {"BACKEND": "shidian.ops.storage.StaticStorage"
                    if PRODUCTION else "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded evidence lives outside the web root and is only served through a permission check.
MEDIA_ROOT = Path(os.environ.get("SHIDIAN_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
SHIDIAN_EVIDENCE_MAX_BYTES = int(os.environ.get("SHIDIAN_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "shidian.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shidian API",
    "DESCRIPTION": "试点工作管理平台 REST API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the app's own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

AUDITLOG_INCLUDE_ALL_MODELS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # `shidian run_huey` gives huey's logger a handler of its own; not twice through root.
    "loggers": {"huey": {"propagate": False}},
    "root": {"handlers": ["console"],
             "level": os.environ.get("SHIDIAN_LOG_LEVEL", "INFO" if PRODUCTION else "WARNING")},
}

# --- Security (shidian.security): 三员 roles, tamper-evident audit, MLPS 2.0 controls ----------
# Owned by the security app; production hardening (HSTS, TLS, cookies) is the profile's above.
INSTALLED_APPS += ["shidian.security"]
# After authentication and messages: idle timeout, second factor, password expiry, CSP header.
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
                  "shidian.security.middleware.SecurityMiddleware")
# The policy's validators (its length replaces Django's fixed minimum) and the password history.
AUTH_PASSWORD_VALIDATORS = [
    v for v in AUTH_PASSWORD_VALIDATORS if not v["NAME"].endswith("MinimumLengthValidator")
] + [{"NAME": "shidian.security.validators.ComplexityValidator"},
     {"NAME": "shidian.security.validators.HistoryValidator"}]
# Defaults of the security policy until the security administrator saves it on /security/policy/.
SHIDIAN_PASSWORD_MIN_LENGTH = int(os.environ.get("SHIDIAN_PASSWORD_MIN_LENGTH", 10))
SHIDIAN_PASSWORD_MIN_CLASSES = int(os.environ.get("SHIDIAN_PASSWORD_MIN_CLASSES", 3))
SHIDIAN_PASSWORD_EXPIRY_DAYS = int(os.environ.get("SHIDIAN_PASSWORD_EXPIRY_DAYS", 90))
SHIDIAN_PASSWORD_HISTORY = int(os.environ.get("SHIDIAN_PASSWORD_HISTORY", 5))
SHIDIAN_SESSION_IDLE_MINUTES = int(os.environ.get("SHIDIAN_SESSION_IDLE_MINUTES",
                                                  SESSION_COOKIE_AGE // 60))
SHIDIAN_TOTP_REQUIRED = env_bool("SHIDIAN_TOTP_REQUIRED", False)
# Audit records are kept at least this long (never below 180 days: security.E001).
SHIDIAN_AUDIT_RETENTION_DAYS = int(os.environ.get("SHIDIAN_AUDIT_RETENTION_DAYS", 183))
# No inline scripts or styles anywhere (tests/templates check it); data: for Bootstrap's icons.
SHIDIAN_CSP = os.environ.get("SHIDIAN_CSP") or (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'")
