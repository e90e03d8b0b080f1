"""Settings read from the environment when the app is created, never at import time."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SEED_DIR = BASE_DIR / "seed"  # reference data files, each naming its source on its first line


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() not in {"0", "off", "false", "no", ""}


PROVIDER_DEFAULTS = {
    # SMS providers (services/sms_providers.py), chosen by SMS_BACKEND=alibaba|tencent.
    "SMS_SIGN_NAME": "",
    "SMS_TEMPLATE_CODE": "",  # template of verification codes, parameter ${code}
    "SMS_TEMPLATE_NOTICE": "",  # template of notices, parameter ${content}
    "ALIBABA_SMS_ACCESS_KEY_ID": "",
    "ALIBABA_SMS_ACCESS_KEY_SECRET": "",
    "ALIBABA_SMS_ENDPOINT": "dysmsapi.aliyuncs.com",
    "TENCENT_SMS_SECRET_ID": "",
    "TENCENT_SMS_SECRET_KEY": "",
    "TENCENT_SMS_SDK_APP_ID": "",
    "TENCENT_SMS_REGION": "ap-guangzhou",
    "TENCENT_SMS_ENDPOINT": "sms.tencentcloudapi.com",
    # Three-factor check of practitioners' mobiles (services/three_factor.py): account|alibaba.
    "THREE_FACTOR_VERIFIER": "account",
    "ALIBABA_3E_ACCESS_KEY_ID": "",
    "ALIBABA_3E_ACCESS_KEY_SECRET": "",
    "ALIBABA_3E_AUTH_CODE": "",
    "ALIBABA_3E_ENDPOINT": "dytnsapi.aliyuncs.com",
    # E-mail (services/mail.py), chosen by MAIL_BACKEND=outbox|smtp.
    "MAIL_BACKEND": "outbox",
    "MAIL_SERVER": "",
    "MAIL_PORT": "25",
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": "off",
    "MAIL_USE_SSL": "off",
    "MAIL_DEFAULT_SENDER": "e-CQS <noreply@localhost>",
}


def _provider_settings() -> dict:
    values = {name: os.environ.get(name, default) for name, default in PROVIDER_DEFAULTS.items()}
    values["MAIL_PORT"] = int(values["MAIL_PORT"])
    values["MAIL_USE_TLS"] = _flag("MAIL_USE_TLS", False)
    values["MAIL_USE_SSL"] = _flag("MAIL_USE_SSL", False)
    return values


def _engine_options(database_url: str) -> dict:
    """No pool_pre_ping: a connection is pinged only after DB_PING_IDLE_SECONDS of idleness
    (services/pool_ping.py, installed by create_app). On PostgreSQL, psycopg prepares a statement
    on the server after DB_PREPARE_THRESHOLD executions on a connection (psycopg's default, 5);
    "off" for a pooler that cannot keep prepared statements (PgBouncer in transaction mode before
    1.21)."""
    options: dict = {}
    threshold = os.environ.get("DB_PREPARE_THRESHOLD", "").strip().lower()
    if threshold and database_url.startswith("postgresql"):
        options["connect_args"] = {"prepare_threshold": None if threshold == "off" else int(threshold)}
    return options


def from_environment() -> dict:
    """Build the configuration mapping from environment variables (documented in README)."""
    instance = Path(os.environ.get("ECQS_INSTANCE_DIR", BASE_DIR / "instance"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'ecqs.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        # A per-instance random key kept in instance/ so that several workers on one host agree;
        # several hosts must set SECRET_KEY themselves (README says so).
        instance.mkdir(parents=True, exist_ok=True)
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(os.urandom(32).hex())
        secret = key_file.read_text().strip()
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "DB_PING_IDLE_SECONDS": float(os.environ.get("DB_PING_IDLE_SECONDS", "10")),
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(instance / "uploads")),
        "SMS_BACKEND": os.environ.get("SMS_BACKEND", "outbox"),
        **_provider_settings(),
        "SMS_DAILY_LIMIT": int(os.environ.get("SMS_DAILY_LIMIT", "3")),
        "SMS_LOGIN_DAILY_LIMIT": int(os.environ.get("SMS_LOGIN_DAILY_LIMIT", "20")),
        "ECQS_CAPTCHA": _flag("ECQS_CAPTCHA", True),
        "ECQS_STAFF_2FA": _flag("ECQS_STAFF_2FA", True),
        "ECQS_DEMO": _flag("ECQS_DEMO", True),
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "30")),
        # Idle expiry and logout are decided server-side (UserSession) on every request; the
        # signed cookie need not be re-signed and re-sent on each response for that.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "STAFF_PASSWORD_MAX_AGE_DAYS": int(os.environ.get("STAFF_PASSWORD_MAX_AGE_DAYS", "90")),
        "PASSWORD_HASH_METHOD": os.environ.get("PASSWORD_HASH_METHOD", "scrypt"),
        "LOCKOUT_THRESHOLD": 5,
        "LOCKOUT_MINUTES": 15,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "ecqsdb://"),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "IMPORT_MAX_BYTES": 20 * 1024 * 1024,
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        # Reverse proxies in front of gunicorn whose X-Forwarded-For/-Proto/-Host are trusted.
        "ECQS_TRUSTED_PROXIES": int(os.environ.get("ECQS_TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_DURATION": timedelta(days=7),
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "WTF_CSRF_TIME_LIMIT": None,
        "FLASK_ADMIN_SWATCH": "cerulean",
        "INSTANCE_DIR": str(instance),
        # Job queue (services/jobs.py): Redis when named, else a SQLite file in instance/.
        "HUEY_URL": os.environ.get("HUEY_URL") or os.environ.get("REDIS_URL") or "",
        "HUEY_FILE": os.environ.get("HUEY_FILE", ""),  # default: INSTANCE_DIR/huey.db
        "HUEY_NAME": os.environ.get("HUEY_NAME", "ecqs"),
        "HUEY_IMMEDIATE": _flag("HUEY_IMMEDIATE", False),
        "EXPORT_JOB_THRESHOLD": int(os.environ.get("EXPORT_JOB_THRESHOLD", "20000")),
        "IMPORT_JOB_THRESHOLD": int(os.environ.get("IMPORT_JOB_THRESHOLD", "2000")),
        "EXPORT_KEEP_HOURS": int(os.environ.get("EXPORT_KEEP_HOURS", "24")),
        "EXPORT_DIR": os.environ.get("EXPORT_DIR", ""),  # default: INSTANCE_DIR/exports
        # Grid filter options and big grids' estimated totals are kept this long per worker
        # (services/short_cache.py); 0 recomputes them on every page.
        "GRID_CACHE_SECONDS": int(os.environ.get("GRID_CACHE_SECONDS", "30")),
    }
