"""Settings shared by every profile. Everything deployment-specific comes from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TONGBAN_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",
    # tongban capabilities: one app each (ARCHITECTURE.md)
    "tongban.core",
    "tongban.accounts",
    "tongban.catalog",
    "tongban.cases",
    "tongban.workflow",
    "tongban.ledger",
    "tongban.bundles",
    "tongban.supervision",
]

MIDDLEWARE = [
    "tongban.core.middleware.RequestIdMiddleware",
    "tongban.core.middleware.GenerationsOncePerRequestMiddleware",
    "tongban.core.middleware.SharedCalendarMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tongban.core.middleware.ContentSecurityPolicyMiddleware",
    "tongban.core.middleware.DisplayPreferenceMiddleware",
]

ROOT_URLCONF = "tongban.urls"
WSGI_APPLICATION = "tongban.wsgi.application"
ASGI_APPLICATION = "tongban.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "tongban" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tongban.core.context_processors.platform",
            ],
        },
    }
]

# Database: DATABASE_URL (postgres://… in production and CI); embedded SQLite file otherwise.
SQLITE_PATH = VAR_DIR / "tongban.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Huey worker read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "tongban" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy: our pages load only our own scripts and styles (htmx, ECharts vendored).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

# Background jobs: Huey on SQLite by default, on Redis when REDIS_URL is set. Results are not
# kept: nothing reads them, and Huey kept every task's return value (each SMS's True) forever.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "tongban"),
        "url": REDIS_URL,
        "immediate": False,
        "results": False,
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tongban",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": False,
        "results": False,
        "consumer": {"workers": int(os.environ.get("HUEY_WORKERS", "2")), "worker_type": "thread"},
    }

# The worker writes a heartbeat here; /readyz reads it (see tongban/core/tasks.py).
WORKER_HEARTBEAT_SECONDS = 30

CACHES = {
    "default": (
        {"BACKEND": "tongban.core.cache.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

#: Every process sees the same cache (Redis): flags one process sets and another clears work.
SHARED_CACHE = bool(REDIS_URL)

# With a shared cache (Redis), sessions and each user's identity snapshot (staff flag, data scope,
# permissions: tongban.accounts.identity) are read from it instead of six statements per request.
# A per-process cache could not be invalidated across workers, so without Redis both stay off.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)
IDENTITY_CACHE = SHARED_CACHE

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "tongban.core.logging.RequestIdFilter"},
        "mask_personal_data": {"()": "tongban.core.logging.MaskPersonalDataFilter"},
    },
    "formatters": {
        "json": {"()": "tongban.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A handler of its own here: run_huey adds a plain-text one to a "huey" logger that has
        # none, and every task's lines then came out twice, once unmasked.
        "huey": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "axes": {"level": "WARNING"},
        # runserver's access log: through our handler so query strings are masked too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Platform identity shown on pages.
PLATFORM_NAME = os.environ.get("PLATFORM_NAME", "六安市一体化政务服务平台")
PLATFORM_SHORT_NAME = "通办"
PLATFORM_REGION_CODE = os.environ.get("PLATFORM_REGION_CODE", "341500")
SERVICE_HOTLINE = os.environ.get("SERVICE_HOTLINE", "12345")

# Yellow light: a task or case is "near due" when this many working days or fewer remain.
NEAR_DUE_WORKING_DAYS = int(os.environ.get("NEAR_DUE_WORKING_DAYS", "2"))

# ---------------------------------------------------------------------------------------------
# Identity: accounts, staff two-factor, lockout, single sign-on (owned by the identity helper,
# see docs/identity.md). Everything auth-related lives in this block.
# ---------------------------------------------------------------------------------------------
from datetime import timedelta  # noqa: E402

INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oauth2_provider",
    "axes",
]
# OTP middleware needs request.user; the identity middleware (session version, staff two-factor,
# delegation) needs both; axes must be last so it sees the final response.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "tongban.accounts.middleware.OTPMiddleware",  # django-otp's, the device from the identity cache
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("tongban.accounts.middleware.OTPMiddleware") + 1,
    "tongban.accounts.middleware.IdentityMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out credentials before any hashing
    "tongban.accounts.backends.PhoneOrUsernameBackend",  # citizens by phone, staff by username
]
LOGIN_REDIRECT_URL = "/accounts/me/"
LOGOUT_REDIRECT_URL = "/"
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_SAVE_EVERY_REQUEST = False

# Personal data at rest: Fernet key (urlsafe base64, 32 bytes) for ID numbers and phones, and a
# separate key for blind indexes. Empty in development: derived from SECRET_KEY at runtime
# (tongban.accounts.crypto); `manage.py check --deploy` refuses an empty value.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "")

# Adapters (registries in tongban.accounts.adapters): replace "local" with a real provider.
SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "local")
POPULATION_SOURCE = os.environ.get("POPULATION_SOURCE", "local")
FACE_VERIFIER = os.environ.get("FACE_VERIFIER", "local")
SMS_CODE_TTL_SECONDS = 300
SMS_CODE_MAX_ATTEMPTS = 5
SMS_PER_PHONE_INTERVAL_SECONDS = 60
SMS_PER_PHONE_PER_DAY = 10
SMS_PER_IP_PER_DAY = 30

# django-axes: 5 wrong passwords lock that account for 30 minutes (Chinese lockout page).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Not per IP: a service hall puts many people behind one address, and one person's typos would
# lock the whole hall. SMS codes carry their own per-IP limit (SMS_PER_IP_PER_DAY).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
# Phones typed as usernames are stored by axes as a blind index, never in clear.
AXES_USERNAME_CALLABLE = "tongban.accounts.backends.axes_username"

# django-otp: TOTP for staff (issuer shown in authenticator apps).
OTP_TOTP_ISSUER = "六安通办"


def _oidc_private_key() -> str:
    """RS256 signing key: OIDC_RSA_PRIVATE_KEY from the environment (production), else a key
    generated once per checkout under var/ (never committed)."""
    key = os.environ.get("OIDC_RSA_PRIVATE_KEY", "").replace("\\n", "\n")
    if key:
        return key
    key_file = VAR_DIR / "oidc-rsa-private.pem"
    if not key_file.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_file.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_file.chmod(0o600)
    return key_file.read_text()


OIDC_KEY_FROM_ENVIRONMENT = bool(os.environ.get("OIDC_RSA_PRIVATE_KEY"))
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _oidc_private_key(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "OAUTH2_VALIDATOR_CLASS": "tongban.accounts.oidc.TongbanOAuth2Validator",
    "SCOPES": {
        "openid": "登录身份（OpenID Connect）",
        "profile": "姓名",
        "phone": "手机号码",
        "realname": "实名认证等级",
        "enterprise": "当前办事企业",
    },
    "DEFAULT_SCOPES": ["openid"],
    "OIDC_ISS_ENDPOINT": os.environ.get("OIDC_ISS_ENDPOINT", ""),
}
# End of identity block.
