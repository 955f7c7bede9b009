"""Settings: sensible defaults, .env files, and every bad value reported by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import KNOWN, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def test_defaults_are_sqlite_in_the_data_folder_and_wita(tmp_path: Path) -> None:
    s = load_settings(environ={}, env_file=tmp_path / "none.env")
    assert s.database_url == "sqlite:///data/pulih.sqlite3"
    assert s.timezone.key == "Asia/Makassar"
    assert s.bot_api_url == "https://api.telegram.org/bot"
    assert s.inventory_path == Path("inventory.toml")
    assert s.bot_token is None


def test_the_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# komentar\n"
        f'PULIH_BOT_TOKEN="{TOKEN}"\n'
        "export PULIH_BOT_API_URL=http://127.0.0.1:8081/bot  # server Bot API sendiri\n"
        "PULIH_DATA_DIR=/var/lib/pulih\n"
        "PULIH_TIMEZONE=Asia/Jakarta\n"
    )
    s = load_settings(environ={"PULIH_TIMEZONE": "Asia/Makassar"}, env_file=env_file)
    assert s.bot_token == TOKEN
    assert s.bot_api_url == "http://127.0.0.1:8081/bot"
    assert s.database_url == "sqlite:////var/lib/pulih/pulih.sqlite3"
    assert s.timezone.key == "Asia/Makassar"


def test_every_bad_value_is_reported_by_name_with_what_was_expected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ={
            "PULIH_BOT_TOKEN": "not-a-token",
            "PULIH_BOT_API_URL": "api.telegram.org",
            "PULIH_DATABASE_URL": "mysql://root@localhost/pulih",
            "PULIH_TIMEZONE": "Mars/Olympus",
            "PULIH_LOG_LEVEL": "LOUD",
            "PULIH_ROLLBACK_KEEP_DAYS": "selamanya",
        }, env_file=tmp_path / "none.env")
    problems = error.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "PULIH_BOT_TOKEN", "PULIH_BOT_API_URL", "PULIH_DATABASE_URL", "PULIH_TIMEZONE",
        "PULIH_LOG_LEVEL", "PULIH_ROLLBACK_KEEP_DAYS"]
    assert all("seharusnya" in p or "pilihan" in p for p in problems)
    assert "not-a-token" not in problems[0]  # even a wrong token is not echoed


def test_a_missing_token_is_reported_only_when_the_bot_needs_it(tmp_path: Path) -> None:
    s = load_settings(environ={}, env_file=tmp_path / "none.env")
    with pytest.raises(ConfigError) as error:
        s.require_bot_token()
    assert error.value.problems[0].startswith("PULIH_BOT_TOKEN: belum diisi")


def test_the_token_and_database_password_never_show_in_repr(tmp_path: Path) -> None:
    s = load_settings(environ={"PULIH_BOT_TOKEN": TOKEN,
                               "PULIH_DATABASE_URL": "postgresql+psycopg://pulih:S3cret@db/p"},
                      env_file=tmp_path / "none.env")
    text = repr(s)
    assert TOKEN not in text and "S3cret" not in text


def test_a_malformed_env_file_line_is_reported_with_its_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PULIH_DATA_DIR=/tmp\nthis is not a setting\n")
    with pytest.raises(ConfigError) as error:
        load_settings(environ={}, env_file=env_file)
    assert error.value.problems == [f"{env_file}:2: seharusnya NAMA=NILAI"]


def test_every_setting_is_documented_in_env_example() -> None:
    example = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    source = (Path(__file__).parents[2] / "bot" / "settings.py").read_text(encoding="utf-8")
    import re

    names = set(re.findall(r'get\("([A-Z0-9_]+)"\)', source)) | {"BOT_TOKEN", "ENV_FILE"}
    assert names == set(KNOWN)  # a setting read is a setting a .env may hold, and back
    for name in names:
        assert f"PULIH_{name}=" in example, name


def test_webhook_and_signing_settings_are_checked_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"PULIH_WEBHOOK_URL": "http://tidak-aman.example/hook",
                               "PULIH_WEBHOOK_LISTEN": "tanpa-port",
                               "PULIH_SIGNING_P12": "data/ttd.p12"},
                      env_file=tmp_path / "none.env")
    problems = "\n".join(caught.value.problems)
    assert "PULIH_WEBHOOK_URL" in problems and "https://" in problems
    assert "PULIH_WEBHOOK_LISTEN: 'tanpa-port'" in problems
    assert "PULIH_WEBHOOK_SECRET_FILE: wajib diisi" in problems
    assert "PULIH_SIGNING_P12 dan PULIH_SIGNING_PASSPHRASE_FILE harus diisi bersama" in problems
    ok = load_settings(environ={"PULIH_WEBHOOK_URL": "https://pulih.kukarkab.go.id/telegram",
                                "PULIH_WEBHOOK_LISTEN": "10.20.30.40:9000",
                                "PULIH_WEBHOOK_SECRET_FILE": "/etc/pulih/webhook"},
                       env_file=tmp_path / "none.env")
    assert ok.webhook_listen == ("10.20.30.40", 9000)
    assert ok.webhook_secret_file == Path("/etc/pulih/webhook")


@pytest.mark.parametrize(("url", "accepted"), [
    ("https://bot-api.kukarkab.go.id/bot", True),
    ("http://127.0.0.1:8081/bot", True),
    ("http://[::1]:8081/bot", True),
    ("http://localhost:8081/bot", True),
    ("http://bot-api.kukarkab.go.id/bot", False),  # the token would cross the network bare
    ("http://10.0.0.5:8081/bot", False),
    ("http://127.0.0.1.contoh.invalid/bot", False),
])
def test_the_bot_api_is_reached_over_https_unless_it_runs_on_this_machine(
        url: str, accepted: bool, tmp_path: Path) -> None:
    environ = {"PULIH_BOT_API_URL": url}
    if accepted:
        assert load_settings(environ=environ, env_file=tmp_path / "none.env").bot_api_url == url
        return
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ, env_file=tmp_path / "none.env")
    assert error.value.problems == [
        f"PULIH_BOT_API_URL: {url!r} tanpa enkripsi; seharusnya https://, atau http:// hanya "
        "ke server Bot API di mesin ini (127.0.0.1, ::1, localhost)"]


def test_the_secrets_to_mask_are_the_token_the_database_password_and_the_key_passphrase(
        tmp_path: Path) -> None:
    env_file = tmp_path / "pulih.env"
    env_file.write_text("PULIH_SSH_KEY_PASSPHRASE=frasa-kunci-rahasia\n")
    settings = load_settings(environ={
        "PULIH_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
        "PULIH_DATABASE_URL": "postgresql+psycopg://pulih:S3cret-DB@db.lokal/pulih"},
        env_file=env_file)
    assert settings.secrets() == ["123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi", "S3cret-DB",
                                  "frasa-kunci-rahasia"]


def test_the_restore_queue_settings_default_to_the_single_host_and_refuse_bad_values(
        tmp_path: Path) -> None:
    s = load_settings(environ={}, env_file=tmp_path / "none.env")
    assert (s.restores_at_once, s.restore_in_bot, s.worker_zone, s.worker_gone_after) == \
        (4, True, None, 30)
    s = load_settings(environ={"PULIH_RESTORES_AT_ONCE": "8", "PULIH_RESTORE_IN_BOT": "tidak",
                               "PULIH_WORKER_ZONE": "dc-tenggarong",
                               "PULIH_WORKER_GONE_AFTER": "60"},
                      env_file=tmp_path / "none.env")
    assert (s.restores_at_once, s.restore_in_bot, s.worker_zone, s.worker_gone_after) == \
        (8, False, "dc-tenggarong", 60)
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"PULIH_RESTORES_AT_ONCE": "0", "PULIH_RESTORE_IN_BOT": "mungkin",
                               "PULIH_WORKER_ZONE": "dc tenggarong; rm",
                               "PULIH_WORKER_GONE_AFTER": "1"},
                      env_file=tmp_path / "none.env")
    assert [p.split(":")[0] for p in error.value.problems] == [
        "PULIH_RESTORES_AT_ONCE", "PULIH_RESTORE_IN_BOT", "PULIH_WORKER_ZONE",
        "PULIH_WORKER_GONE_AFTER"]


def test_the_verification_page_settings_default_to_loopback_and_refuse_bad_values(
        tmp_path: Path) -> None:
    s = load_settings(environ={}, env_file=tmp_path / "none.env")
    assert (s.verify_url, s.web_listen, s.web_rate, s.web_proxies) == \
        (None, ("127.0.0.1", 8090), 30, ("127.0.0.1",))
    s = load_settings(environ={"PULIH_VERIFY_URL": "https://pulih.kukarkab.go.id/",
                               "PULIH_WEB_LISTEN": "127.0.0.2:9000", "PULIH_WEB_RATE": "60",
                               "PULIH_WEB_PROXIES": "10.1.2.3, 10.1.2.4"},
                      env_file=tmp_path / "none.env")
    assert (s.verify_url, s.web_listen, s.web_rate, s.web_proxies) == \
        ("https://pulih.kukarkab.go.id", ("127.0.0.2", 9000), 60, ("10.1.2.3", "10.1.2.4"))
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"PULIH_VERIFY_URL": "http://pulih.kukarkab.go.id",
                               "PULIH_WEB_LISTEN": "8090", "PULIH_WEB_RATE": "0",
                               "PULIH_WEB_PROXIES": "proxy.kantor"},
                      env_file=tmp_path / "none.env")
    assert [p.split(":")[0] for p in error.value.problems] == [
        "PULIH_VERIFY_URL", "PULIH_WEB_LISTEN", "PULIH_WEB_RATE", "PULIH_WEB_PROXIES"]
    assert "https://" in error.value.problems[0]  # a public page is reached over https


def test_email_is_off_by_default_and_its_settings_are_checked_together(
        tmp_path: Path) -> None:
    s = load_settings(environ={}, env_file=tmp_path / "none.env")
    assert (s.smtp_host, s.mail_from, s.smtp_tls, s.mail_after_minutes) == \
        (None, None, "starttls", None)
    s = load_settings(environ={"PULIH_SMTP_HOST": "mail.kukarkab.go.id",
                               "PULIH_SMTP_USER": "pulih",
                               "PULIH_SMTP_PASSWORD_FILE": "/etc/pulih/smtp-password",
                               "PULIH_MAIL_FROM": "pulih@kukarkab.go.id",
                               "PULIH_MAIL_AFTER": "45"}, env_file=tmp_path / "none.env")
    assert (s.smtp_host, s.smtp_user, s.smtp_password_file, s.mail_from,
            s.mail_after_minutes) == (("mail.kukarkab.go.id", 587), "pulih",
                                      Path("/etc/pulih/smtp-password"),
                                      "pulih@kukarkab.go.id", 45)
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"PULIH_SMTP_HOST": "mail.kukarkab.go.id:25",
                               "PULIH_SMTP_TLS": "tanpa",
                               "PULIH_SMTP_PASSWORD_FILE": "/etc/pulih/smtp-password",
                               "PULIH_MAIL_AFTER": "0"}, env_file=tmp_path / "none.env")
    assert [p.split(":")[0] for p in error.value.problems] == [
        "PULIH_SMTP_TLS", "PULIH_SMTP_USER", "PULIH_MAIL_FROM", "PULIH_MAIL_AFTER"]
    assert "hanya ke server SMTP di mesin ini" in error.value.problems[0]
