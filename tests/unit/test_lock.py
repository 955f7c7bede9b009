"""The deployment lock file pins every dependency Pulih declares, at a version its
declaration accepts, so `pip install -r requirements.lock` installs what CI tested."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def test_every_declared_dependency_is_pinned_at_an_accepted_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [Requirement(text) for text in
                [*project["dependencies"], *project["optional-dependencies"]["postgres"]]]
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    for requirement in declared:
        locked = pins.get(canonicalize_name(requirement.name))
        assert locked is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(locked), f"{requirement} but locked {locked}"
