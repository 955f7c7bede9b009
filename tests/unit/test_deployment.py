"""The deployment recipes: the systemd unit passes systemd's own checks, the compose file
runs Pulih beside PostgreSQL with its secrets kept apart, and the container image builds
where a container runtime is at hand."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def unit_here(tmp_path: Path, name: str = "pulih.service") -> Path:
    """The unit with its program at this machine's `pulih` (systemd checks that it is
    there and executable)."""
    program = shutil.which("pulih")
    assert program is not None
    unit = tmp_path / name
    unit.write_text((DEPLOY / name).read_text().replace("/opt/pulih/bin/pulih", program))
    return unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
@pytest.mark.parametrize(("name", "command"), [("pulih.service", "run"),
                                               ("pulih-web.service", "web")])
def test_the_systemd_units_pass_systemd_analyze_verify_and_are_hardened(
        tmp_path: Path, name: str, command: str) -> None:
    unit = unit_here(tmp_path, name)
    verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                              text=True)
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                              capture_output=True, text=True)
    level = re.search(rf"Overall exposure level for {re.escape(name)}: ([\d.]+)",
                      security.stdout)
    assert level is not None, security.stdout[-2000:]
    assert float(level.group(1)) <= 2.0  # systemd's "OK" band
    text = (DEPLOY / name).read_text()
    for line in ("User=pulih", "Restart=on-failure", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "UMask=0077",
                 f"ExecStart=/opt/pulih/bin/pulih --env-file /etc/pulih/pulih.env {command}"):
        assert line in text.splitlines(), line


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_the_compose_file_runs_pulih_after_a_healthy_postgresql_with_secrets_kept_apart(
        ) -> None:
    services = compose()["services"]
    assert set(services) == {"db", "pulih"}
    db, pulih = services["db"], services["pulih"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in db["healthcheck"]["test"]
    assert db["env_file"] == "db.env" and pulih["env_file"] == "pulih.env"
    assert pulih["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert pulih["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    for service in (db, pulih):
        assert service["restart"] == "unless-stopped"
    assert pulih["read_only"] is True and pulih["cap_drop"] == ["ALL"]
    assert "data:/var/lib/pulih" in pulih["volumes"]
    assert "./etc:/etc/pulih:ro" in pulih["volumes"]
    assert pulih["environment"]["PULIH_TIMEZONE"] == "Asia/Makassar"
    # No secret is written in the file itself, and the database never sees Pulih's token.
    plain = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    body = "\n".join(line for line in plain.splitlines() if not line.startswith("#"))
    assert "PASSWORD" not in body and "TOKEN" not in body
    assert not any(key.startswith("PULIH_") for key in db.get("environment", {}))
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/deploy/pulih.env" in ignored and "/deploy/db.env" in ignored


def test_the_dockerfile_copies_every_package_and_runs_as_its_own_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]
                ["include"]]
    for package in packages:
        assert f"COPY {package} ./{package}" in text, package
    for name in ("pyproject.toml", "README.md", "requirements.lock", ".env.example",
                 "inventory.example.toml"):  # the build reads them; the examples ship
        assert name in text.split("COPY ", 2)[1].splitlines()[0], name
    assert "\nUSER pulih\n" in text and "openssh-client" in text and \
        "postgresql-client" in text


def _runtime() -> bool:
    docker = shutil.which("docker")
    return docker is not None and subprocess.run(
        [docker, "info"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _runtime(), reason="no container runtime on this machine")
def test_the_container_image_builds() -> None:
    built = subprocess.run(["docker", "build", "-f", "deploy/Dockerfile", "-t", "pulih:test",
                            "."], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-3000:]
