"""First-run set-up: data folder, the bot's SSH key pair, an inventory to start from."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.examples import example as packaged_example

LOGO = "logo-contoh.png"  # the example inventory's placeholder letterhead logo


@dataclass
class SetupReport:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    inventory_made: bool = False  # a copy of the example: nothing of the office's yet


def make_ssh_key(key_path: Path, comment: str = "pulih") -> None:
    """Write an Ed25519 key pair (OpenSSH format, private key mode 0600)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private)
    key_path.with_name(key_path.name + ".pub").write_bytes(public + f" {comment}\n".encode())


def prepare(data_dir: Path, inventory_path: Path, example: Path | None,
            env_path: Path | None = None, env_example: Path | None = None) -> SetupReport:
    """Create what is missing; never overwrite what exists."""
    report = SetupReport()
    if env_path is not None and env_example is not None:
        if env_path.exists():
            report.kept.append(str(env_path))
        else:
            _copy_new(env_example, env_path)
            report.created.append(f"{env_path} (salinan {env_example.name}; isi "
                                  "PULIH_BOT_TOKEN)")
    data_dir.mkdir(parents=True, exist_ok=True)
    ssh_dir = data_dir / "ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    key = ssh_dir / "id_ed25519"
    if key.exists():
        report.kept.append(str(key))
    else:
        make_ssh_key(key)
        report.created.append(f"{key} (kunci publik: {key}.pub)")
    known = ssh_dir / "known_hosts"
    if known.exists():
        report.kept.append(str(known))
    else:
        known.touch(mode=0o600)
        report.created.append(f"{known} (isi dengan kunci host server: ssh-keyscan -H HOST)")
    if inventory_path.exists():
        report.kept.append(str(inventory_path))
    elif example is not None and example.is_file():
        _copy_new(example, inventory_path)
        report.inventory_made = True
        logo = example.parent / LOGO
        if not logo.is_file():
            logo = packaged_example(LOGO)
        if not (inventory_path.parent / LOGO).exists():
            _copy_new(logo, inventory_path.parent / LOGO)
            report.created.append(f"{inventory_path.parent / LOGO} (logo contoh; ganti dengan "
                                  "lambang daerah)")
        report.created.append(f"{inventory_path} (salinan {example.name}; sesuaikan isinya)")
    return report


def _copy_new(source: Path, target: Path) -> None:
    """Copy into a file that must not exist yet, readable by its owner only (a `.env` will
    hold the bot token)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
