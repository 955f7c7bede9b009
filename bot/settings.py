"""Process settings read from the environment and an optional `.env` file."""

from __future__ import annotations

import difflib
import importlib.util
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError

PREFIX = "PULIH_"
DEFAULT_BOT_API_URL = "https://api.telegram.org/bot"
DEFAULT_BOT_FILE_URL = "https://api.telegram.org/file/bot"
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_DB_SCHEMES = ("sqlite", "postgresql")
# Every setting a `.env` may hold: a name outside this list is a typing mistake.
KNOWN = ("BOT_TOKEN", "BOT_API_URL", "BOT_FILE_URL", "DATABASE_URL", "TIMEZONE", "DATA_DIR",
         "INVENTORY", "LOG_LEVEL", "SIGNING_P12", "SIGNING_PASSPHRASE_FILE", "WEBHOOK_URL",
         "WEBHOOK_LISTEN", "WEBHOOK_SECRET_FILE", "SSH_KEY_PASSPHRASE", "ROLLBACK_KEEP_DAYS",
         "SELF_BACKUP_DIR", "SELF_BACKUP_KEEP_DAYS", "HEALTH_LISTEN", "ENV_FILE", "SSH_BYTES",
         "RESTORES_AT_ONCE", "RESTORE_IN_BOT", "WORKER_ZONE", "WORKER_GONE_AFTER",
         "VERIFY_URL", "WEB_LISTEN", "WEB_RATE", "WEB_PROXIES", "SMTP_HOST", "SMTP_USER",
         "SMTP_PASSWORD_FILE", "SMTP_TLS", "SMTP_CA_FILE", "MAIL_FROM", "MAIL_AFTER")
_YES, _NO = ("ya", "yes", "true", "1"), ("tidak", "no", "false", "0")
_ZONE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
SSH_BYTES = ("otomatis", "openssh", "paramiko")
SMTP_TLS = ("starttls", "tls", "tanpa")


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know before it reads the inventory."""

    bot_token: str | None
    bot_api_url: str
    bot_file_url: str
    database_url: str
    timezone: ZoneInfo
    data_dir: Path
    inventory_path: Path
    log_level: str
    # PKCS#12 certificate for signing documents, and the file holding its passphrase
    signing_p12: Path | None = None
    signing_passphrase_file: Path | None = None
    # Webhook mode (optional; long polling otherwise): the public HTTPS URL Telegram posts
    # to, where the bot listens behind the reverse proxy, and the shared secret's file.
    webhook_url: str | None = None
    webhook_listen: tuple[str, int] = ("127.0.0.1", 8443)
    webhook_secret_file: Path | None = None
    # The passphrase of the bot's SSH key, when it has one (from the environment or .env)
    ssh_key_passphrase: str | None = None
    # What carries a restore's bytes: `ssh` processes where installed (otomatis), or
    # always paramiko (restore.pipe).
    ssh_bytes: str = "otomatis"
    # How long the copy kept for rollback stays once a restore is done, if the request is
    # not acknowledged (step 8) before; after either, it is removed.
    rollback_keep_days: int = 14
    # Pulih's own daily backup: where (None: <data dir>/cadangan) and for how many days.
    self_backup_dir: Path | None = None
    self_backup_keep_days: int = 14
    # Where GET /sehat answers for monitoring (None: no health endpoint).
    health_listen: tuple[str, int] | None = None
    # The restore queue (issue 19): restores at once in all (N; each backup server's own
    # limit is in the inventory), whether the bot's process carries restores out itself
    # (False: only `pulih worker` processes do), and the zone (data centre) whose work
    # this host's worker takes (None: work without a zone).
    restores_at_once: int = 4
    restore_in_bot: bool = True
    worker_zone: str | None = None
    # Seconds a worker may be silent before another of its zone takes its restores over.
    worker_gone_after: int = 30
    # The verification page (issue 21): its public base URL, printed and put in every
    # document's QR code as <base>/v/<code> (None: the QR holds the code alone), where
    # `pulih web` listens behind the reverse proxy, the checks one client address may make
    # a minute, and the proxies whose X-Forwarded-For names the client.
    verify_url: str | None = None
    web_listen: tuple[str, int] = ("127.0.0.1", 8090)
    web_rate: int = 30
    web_proxies: tuple[str, ...] = ("127.0.0.1",)
    # E-mail, the second channel (issue 21): the office's SMTP server (None: no e-mail),
    # its login and the file holding the password, how the connection is encrypted
    # (STARTTLS by default; "tanpa" only to a server on this machine), an extra CA file to
    # trust, the sender's address, and the minutes a Telegram message may go undelivered
    # or unanswered before its e-mail copy (None: half the step's Mutu Baku).
    smtp_host: tuple[str, int] | None = None
    smtp_user: str | None = None
    smtp_password_file: Path | None = None
    smtp_tls: str = "starttls"
    smtp_ca_file: Path | None = None
    mail_from: str | None = None
    mail_after_minutes: int | None = None

    def require_bot_token(self) -> str:
        """The bot token, or a ConfigError saying how to set it."""
        if not self.bot_token:
            raise ConfigError([f"{PREFIX}BOT_TOKEN: belum diisi; seharusnya token dari "
                               "BotFather, seperti 123456:ABC..."])
        return self.bot_token

    def sqlite_file(self) -> Path | None:
        """The SQLite database's file, when the database is one."""
        if not self.database_url.startswith("sqlite:///"):
            return None
        path = self.database_url[len("sqlite:///"):].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def secrets(self) -> list[str]:
        """What no log line may show: the bot token, the database password and the SSH
        key's passphrase."""
        password = urlsplit(self.database_url).password if "://" in self.database_url \
            else None
        found = [self.bot_token, password, self.ssh_key_passphrase]
        return [secret for secret in found if secret]

    def __repr__(self) -> str:  # the token must never reach a log line
        token = "***" if self.bot_token else None
        return (
            f"Settings(bot_token={token!r}, bot_api_url={self.bot_api_url!r}, "
            f"database_url={redact_url(self.database_url)!r}, timezone={self.timezone.key!r}, "
            f"data_dir={str(self.data_dir)!r}, inventory_path={str(self.inventory_path)!r})"
        )


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and # comments are skipped, quotes stripped."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            problems.append(f"{path}:{number}: seharusnya NAMA=NILAI")
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    if problems:
        raise ConfigError(problems)
    return values


def _unknown_keys(path: Path, values: Mapping[str, str]) -> list[str]:
    """One line per name in the file that is no setting, with the closest one."""
    names = [PREFIX + name for name in KNOWN]
    problems = []
    for key in values:
        if key in names:
            continue
        close = difflib.get_close_matches(key.upper(), names, n=1, cutoff=0.6)
        hint = f"; maksudnya {close[0]}?" if close else \
            "; daftar pengaturan ada di .env.example"
        problems.append(f"{path}: {key} bukan pengaturan Pulih{hint}")
    return problems


def _loopback(url: str) -> bool:
    """Whether the URL's host is this machine (a loopback address or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read settings; the environment wins over `.env`. Every bad value is reported by name."""
    env = dict(os.environ if environ is None else environ)
    file_path = env_file if env_file is not None else Path(env.get(f"{PREFIX}ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    problems: list[str] = []
    if file_path.is_file():
        from_file = read_env_file(file_path)
        problems.extend(_unknown_keys(file_path, from_file))
        merged.update(from_file)
    merged.update({k: v for k, v in env.items() if k.startswith(PREFIX)})

    def get(name: str) -> str | None:
        value = merged.get(PREFIX + name)
        return value if value not in (None, "") else None

    token = get("BOT_TOKEN")
    if token is not None and not _TOKEN_RE.match(token):
        problems.append(
            f"{PREFIX}BOT_TOKEN: bukan token bot; seharusnya angka, titik dua dan rahasianya "
            "(seperti 123456:ABC...)"
        )

    api_url = get("BOT_API_URL") or DEFAULT_BOT_API_URL
    file_url = get("BOT_FILE_URL") or DEFAULT_BOT_FILE_URL
    for name, url in (("BOT_API_URL", api_url), ("BOT_FILE_URL", file_url)):
        if not re.match(r"^https?://[^\s/]+", url):
            problems.append(f"{PREFIX}{name}: {url!r} bukan URL; seharusnya http(s)://host/...")
        elif url.startswith("http://") and not _loopback(url):
            # The token travels in every request's path: in clear text only on this machine.
            problems.append(f"{PREFIX}{name}: {url!r} tanpa enkripsi; seharusnya https://, "
                            "atau http:// hanya ke server Bot API di mesin ini (127.0.0.1, ::1, "
                            "localhost)")

    data_dir = Path(get("DATA_DIR") or "data").expanduser()
    database_url = get("DATABASE_URL") or f"sqlite:///{data_dir / 'pulih.sqlite3'}"
    database_url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", database_url)
    scheme = database_url.split(":", 1)[0].split("+", 1)[0]
    if "://" not in database_url or scheme not in _DB_SCHEMES:
        problems.append(
            f"{PREFIX}DATABASE_URL: {redact_url(database_url)!r} tidak didukung; seharusnya "
            "sqlite:///path/berkas.sqlite3 atau postgresql+psycopg://user@host/db"
        )
    elif scheme == "postgresql" and importlib.util.find_spec("psycopg") is None:
        problems.append(f"{PREFIX}DATABASE_URL: PostgreSQL butuh paket psycopg yang belum "
                        "terpasang; pasang: python3 -m pip install 'pulih[postgres]'")

    tz_name = get("TIMEZONE") or "Asia/Makassar"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"{PREFIX}TIMEZONE: {tz_name!r} bukan zona waktu yang dikenal; seharusnya nama "
            "IANA seperti Asia/Makassar (WITA)"
        )

    ssh_bytes = (get("SSH_BYTES") or "otomatis").lower()
    if ssh_bytes not in SSH_BYTES:
        problems.append(f"{PREFIX}SSH_BYTES: {ssh_bytes!r}; pilihan: {', '.join(SSH_BYTES)}")

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        problems.append(
            f"{PREFIX}LOG_LEVEL: {log_level!r}; pilihan: {', '.join(_LOG_LEVELS)}")

    p12 = get("SIGNING_P12")
    passfile = get("SIGNING_PASSPHRASE_FILE")
    if bool(p12) != bool(passfile):
        problems.append(f"{PREFIX}SIGNING_P12 dan {PREFIX}SIGNING_PASSPHRASE_FILE harus diisi "
                        "bersama (sertifikat dan berkas kata sandinya), atau keduanya kosong")

    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None and not re.match(r"^https://[^\s/]+", webhook_url):
        problems.append(f"{PREFIX}WEBHOOK_URL: {webhook_url!r}; seharusnya URL https:// publik "
                        "yang diteruskan ke bot")
    webhook_listen = _listen(get("WEBHOOK_LISTEN") or "127.0.0.1:8443", "WEBHOOK_LISTEN",
                             problems, "127.0.0.1:8443") or ("127.0.0.1", 8443)
    secret_file = get("WEBHOOK_SECRET_FILE")
    if webhook_url is not None and secret_file is None:
        problems.append(f"{PREFIX}WEBHOOK_SECRET_FILE: wajib diisi bila {PREFIX}WEBHOOK_URL "
                        "diisi (berkas berisi token rahasia, huruf/angka/_/-)")

    keep_text = get("ROLLBACK_KEEP_DAYS") or "14"
    if not keep_text.isdigit() or not 1 <= int(keep_text) <= 3650:
        problems.append(f"{PREFIX}ROLLBACK_KEEP_DAYS: {keep_text!r}; seharusnya jumlah hari "
                        "1-3650")
        keep_text = "14"

    backup_keep = get("SELF_BACKUP_KEEP_DAYS") or "14"
    if not backup_keep.isdigit() or not 1 <= int(backup_keep) <= 3650:
        problems.append(f"{PREFIX}SELF_BACKUP_KEEP_DAYS: {backup_keep!r}; seharusnya jumlah "
                        "hari 1-3650")
        backup_keep = "14"
    backup_dir = get("SELF_BACKUP_DIR")
    health_text = get("HEALTH_LISTEN")
    health = _listen(health_text, "HEALTH_LISTEN", problems, "127.0.0.1:8088") \
        if health_text is not None else None

    at_once = get("RESTORES_AT_ONCE") or "4"
    if not at_once.isdigit() or not 1 <= int(at_once) <= 64:
        problems.append(f"{PREFIX}RESTORES_AT_ONCE: {at_once!r}; seharusnya jumlah restore "
                        "sekaligus 1-64")
        at_once = "4"
    in_bot = (get("RESTORE_IN_BOT") or "ya").lower()
    if in_bot not in _YES + _NO:
        problems.append(f"{PREFIX}RESTORE_IN_BOT: {in_bot!r}; seharusnya ya atau tidak")
        in_bot = "ya"
    worker_zone = get("WORKER_ZONE")
    if worker_zone is not None and not _ZONE.match(worker_zone):
        problems.append(f"{PREFIX}WORKER_ZONE: {worker_zone!r}; seharusnya nama zona seperti "
                        "di inventaris (huruf, angka, . _ -, paling panjang 32)")
        worker_zone = None

    gone_after = get("WORKER_GONE_AFTER") or "30"
    if not gone_after.isdigit() or not 4 <= int(gone_after) <= 3600:
        problems.append(f"{PREFIX}WORKER_GONE_AFTER: {gone_after!r}; seharusnya jumlah detik "
                        "4-3600")
        gone_after = "30"

    verify_url = get("VERIFY_URL")
    if verify_url is not None:
        verify_url = verify_url.rstrip("/")
        if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", verify_url) or (
                verify_url.startswith("http://") and not _loopback(verify_url)):
            problems.append(f"{PREFIX}VERIFY_URL: {verify_url!r}; seharusnya alamat https:// "
                            "halaman verifikasi, seperti https://pulih.kukarkab.go.id")
            verify_url = None
    web_listen = _listen(get("WEB_LISTEN") or "127.0.0.1:8090", "WEB_LISTEN", problems) \
        or ("127.0.0.1", 8090)
    web_rate = get("WEB_RATE") or "30"
    if not web_rate.isdigit() or not 1 <= int(web_rate) <= 100000:
        problems.append(f"{PREFIX}WEB_RATE: {web_rate!r}; seharusnya jumlah pemeriksaan per "
                        "menit per alamat 1-100000")
        web_rate = "30"
    proxies = tuple(p.strip() for p in (get("WEB_PROXIES") or "127.0.0.1").split(",")
                    if p.strip())
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            problems.append(f"{PREFIX}WEB_PROXIES: {proxy!r} bukan alamat IP; seharusnya "
                            "alamat reverse proxy, dipisah koma, seperti 127.0.0.1")

    smtp_host = None
    smtp_text = get("SMTP_HOST")
    if smtp_text is not None:
        smtp_host = _listen(smtp_text if ":" in smtp_text else f"{smtp_text}:587",
                            "SMTP_HOST", problems)
    smtp_tls = (get("SMTP_TLS") or "starttls").lower()
    if smtp_tls not in SMTP_TLS:
        problems.append(f"{PREFIX}SMTP_TLS: {smtp_tls!r}; pilihan: {', '.join(SMTP_TLS)}")
        smtp_tls = "starttls"
    elif smtp_tls == "tanpa" and smtp_host is not None and \
            not _loopback(f"smtp://{smtp_host[0]}"):
        problems.append(f"{PREFIX}SMTP_TLS: tanpa enkripsi hanya ke server SMTP di mesin ini "
                        "(127.0.0.1, ::1, localhost); seharusnya starttls atau tls")
    smtp_user, smtp_password = get("SMTP_USER"), get("SMTP_PASSWORD_FILE")
    if smtp_password is not None and smtp_user is None:
        problems.append(f"{PREFIX}SMTP_USER: wajib diisi bila {PREFIX}SMTP_PASSWORD_FILE "
                        "diisi (nama login SMTP)")
    mail_from = get("MAIL_FROM")
    if mail_from is not None and not re.match(
            r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z", mail_from):
        problems.append(f"{PREFIX}MAIL_FROM: {mail_from!r}; seharusnya satu alamat e-mail, "
                        "seperti pulih@kukarkab.go.id")
        mail_from = None
    elif mail_from is None and smtp_host is not None:
        problems.append(f"{PREFIX}MAIL_FROM: wajib diisi bila {PREFIX}SMTP_HOST diisi "
                        "(alamat pengirim, seperti pulih@kukarkab.go.id)")
    mail_after = get("MAIL_AFTER")
    if mail_after is not None and (not mail_after.isdigit()
                                   or not 1 <= int(mail_after) <= 10080):
        problems.append(f"{PREFIX}MAIL_AFTER: {mail_after!r}; seharusnya jumlah menit 1-10080 "
                        "(kosong: separuh Mutu Baku langkahnya)")
        mail_after = None

    if problems:
        raise ConfigError(problems)
    return Settings(
        bot_token=token,
        bot_api_url=api_url,
        bot_file_url=file_url,
        database_url=database_url,
        timezone=timezone,
        data_dir=data_dir,
        inventory_path=Path(get("INVENTORY") or "inventory.toml").expanduser(),
        log_level=log_level,
        signing_p12=Path(p12).expanduser() if p12 else None,
        signing_passphrase_file=Path(passfile).expanduser() if passfile else None,
        ssh_key_passphrase=get("SSH_KEY_PASSPHRASE"),
        ssh_bytes=ssh_bytes,
        webhook_url=webhook_url,
        webhook_listen=webhook_listen,
        webhook_secret_file=Path(secret_file).expanduser() if secret_file else None,
        rollback_keep_days=int(keep_text),
        self_backup_dir=Path(backup_dir).expanduser() if backup_dir else None,
        self_backup_keep_days=int(backup_keep),
        health_listen=health,
        restores_at_once=int(at_once),
        restore_in_bot=in_bot in _YES,
        worker_zone=worker_zone,
        worker_gone_after=int(gone_after),
        verify_url=verify_url,
        web_listen=web_listen,
        web_rate=int(web_rate),
        web_proxies=proxies,
        smtp_host=smtp_host,
        smtp_user=smtp_user,
        smtp_password_file=Path(smtp_password).expanduser() if smtp_password else None,
        smtp_tls=smtp_tls,
        smtp_ca_file=Path(ca).expanduser() if (ca := get("SMTP_CA_FILE")) else None,
        mail_from=mail_from,
        mail_after_minutes=int(mail_after) if mail_after else None,
    )


def _listen(text: str, name: str, problems: list[str],
            example: str = "127.0.0.1:8090") -> tuple[str, int] | None:
    """host:port, or None with a problem said."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        problems.append(f"{PREFIX}{name}: {text!r}; seharusnya host:port, seperti {example}")
        return None
    return host.strip("[]"), int(port)
