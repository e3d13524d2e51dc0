"""Settings for Lynx Portal, all read from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def _database_from_url(variable: str) -> dict | None:
    """Parse a database URL, turning every malformation into one readable error."""
    url = env.str(variable, default="")
    if not url:
        return None
    if not url.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(f"{variable} must be a postgres:// or postgresql:// URL.")
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types here
        raise ImproperlyConfigured(f"{variable} is malformed: {exc}") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{variable} names no database.")
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {}).update(
        connect_timeout=env.int("DATABASE_CONNECT_TIMEOUT", default=5),
        # Parameters travel apart from the SQL text: any session of the same login role
        # reads that text in pg_stat_activity, and a request's own SQL may leave the RLS role
        # for the web role. Session keys and the proofs of storage.acting must not be there.
        # Never prepared by name, so that transaction poolers (Supavisor, PgBouncer) serve it.
        server_side_binding=True,
        prepare_threshold=None,
    )
    return config


# Two roles log in (README, Deploy; storage/database.py). DATABASE_URL is the web login
# role: NOINHERIT, owns and holds nothing, may only switch to the RLS role. DATABASE_OWNER_URL
# is the owner of the tables, for migrate and maintenance; unset, DATABASE_URL's role is both
# (development; `check --deploy` then fails).
LYNX_WEB_DATABASE = _database_from_url("DATABASE_URL")
if LYNX_WEB_DATABASE is None:
    raise ImproperlyConfigured("DATABASE_URL is not set (make run and make test set it for you).")
LYNX_OWNER_DATABASE = _database_from_url("DATABASE_OWNER_URL") or LYNX_WEB_DATABASE
if LYNX_OWNER_DATABASE["NAME"] != LYNX_WEB_DATABASE["NAME"]:
    raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database as DATABASE_URL.")

# Which of the two this process logs in as: web servers as the web role; manage.py sets
# "owner" for its commands (all but runserver), since they are the operator's maintenance.
LYNX_CONNECT_AS = env.str("LYNX_CONNECT_AS", default="web")
if LYNX_CONNECT_AS not in ("web", "owner"):
    raise ImproperlyConfigured("LYNX_CONNECT_AS must be web or owner.")
DATABASES = {
    "default": dict(LYNX_OWNER_DATABASE if LYNX_CONNECT_AS == "owner" else LYNX_WEB_DATABASE)
}

# The role every request and tenant_context() switches to: RLS applies to it.
LYNX_DB_RLS_ROLE = env.str("LYNX_DB_RLS_ROLE", default="lynx_portal")

# Where people reach the portal, for the links in emails (no trailing slash).
LYNX_PORTAL_URL = env.str("LYNX_PORTAL_URL", default="http://127.0.0.1:8000").rstrip("/")

# Email, for the reviewers' daily digest (`manage.py notify_reviewers`): EMAIL_URL such as
# smtp+tls://user:password@smtp.example.com:587; with DEBUG on, emails go to the console.
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lynx Portal <lynx-portal@localhost>")

# How long migrate keeps trying to take a lock before it stops and asks to be run again;
# each attempt waits at most half a second, so Lynx AI's writers queued behind it wait no
# longer (storage/management/commands/migrate.py).
LYNX_MIGRATE_LOCK_TIMEOUT = env.float("LYNX_MIGRATE_LOCK_TIMEOUT", default=5.0)
if LYNX_MIGRATE_LOCK_TIMEOUT <= 0:
    raise ImproperlyConfigured("LYNX_MIGRATE_LOCK_TIMEOUT must be a positive number of seconds.")

# How long one statement of a request may run before PostgreSQL stops it and the page says so
# (503, nothing saved): a list no index serves, or a row lock held elsewhere, gives its worker
# and its connection back. 0 leaves it to the login role's own statement_timeout (none unless
# set); `make bench` does, for the default admin's slowest pages.
LYNX_REQUEST_STATEMENT_TIMEOUT = env.float("LYNX_REQUEST_STATEMENT_TIMEOUT", default=10.0)
if LYNX_REQUEST_STATEMENT_TIMEOUT < 0:
    raise ImproperlyConfigured("LYNX_REQUEST_STATEMENT_TIMEOUT must be a number of seconds, or 0.")

# Audit events older than this many days go to the archive (`manage.py archive_audit_events`).
LYNX_AUDIT_RETENTION_DAYS = env.int("LYNX_AUDIT_RETENTION_DAYS", default=90)

INSTALLED_APPS = [
    "lynxportal",  # first: its runserver runs as the web role (lynxportal/management)
    "storage.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "storage",
    "demo",  # only `manage.py seed_demo`; production imports none of it
]
# The benchmark (bench/README.md): its commands and the default admin it compares with.
LYNX_BENCH = env.bool("LYNX_BENCH", default=False)
if LYNX_BENCH:
    INSTALLED_APPS += ["bench"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "lynxportal.middleware.RequestTransactionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lynxportal.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lynxportal.urls"
WSGI_APPLICATION = "lynxportal.wsgi.application"
AUTH_USER_MODEL = "storage.User"

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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date format everywhere, with the time zone (lynxportal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["lynxportal.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

# Production hardening; all of it is what `manage.py check --deploy` asks for.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Only behind a TLS-terminating proxy that sets the header itself; otherwise a
# client could claim HTTPS.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
# Sessions only through their key: the role requests run as cannot list them (README, Security).
SESSION_ENGINE = "storage.people.sessions"
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The spec's index names are longer than the 30 characters Django allows for
# Oracle's sake; PostgreSQL allows 63, and the names are law.
SILENCED_SYSTEM_CHECKS = ["models.E034"]

# Distinct approvals a high-risk draft needs before it is approved (others need one).
LYNX_HIGH_RISK_APPROVALS = env.int("LYNX_HIGH_RISK_APPROVALS", default=2)
if LYNX_HIGH_RISK_APPROVALS < 1:
    raise ImproperlyConfigured("LYNX_HIGH_RISK_APPROVALS must be 1 or more.")

# --- Sign-in throttling and security headers -------------------------------------------
# django-axes counts failed sign-ins per account and per address: after
# LYNX_LOGIN_FAILURE_LIMIT of either, sign-in is refused (429, with a message) until
# LYNX_LOGIN_COOLOFF_MINUTES have passed since the last attempt. Attempts, lockouts
# included, are recorded in its tables (`manage.py axes_list_attempts`, `axes_reset`).
INSTALLED_APPS += ["axes"]
# PortalUserBackend signs people in and loads them with their permissions in one query. Not
# ModelBackend: its reads of a user come before the request acts for anyone, and find nobody
# (migration 0027); a session it signed in long ago is signed out.
AUTHENTICATION_BACKENDS = [
    "storage.people.backend.SignInThrottle",
    "storage.people.backend.PortalUserBackend",
]
# Outside TenantMiddleware: the lockout page is a 429, and a 4xx rolls the request's
# transaction back, so inside it the record of a refused attempt would be lost.
MIDDLEWARE.insert(
    MIDDLEWARE.index("lynxportal.middleware.TenantMiddleware"), "axes.middleware.AxesMiddleware"
)
AXES_FAILURE_LIMIT = env.int("LYNX_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LYNX_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_CLIENT_IP_CALLABLE = "lynxportal.security.client_ip"
AXES_ENABLE_ADMIN = False  # operators use its management commands
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure, lockouts marked
# Lockouts are logged as warnings; axes' per-attempt notes would drown the log.
LOGGING.setdefault("loggers", {})["axes"] = {"level": "WARNING"}

# Every page loads scripts and styles from the portal's own files only.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "lynxportal.security.SecurityHeadersMiddleware",
)
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
