"""The examples a new installation starts from (shipped in the package, so that `pulih init`
and `pulih demo` work from any folder): the inventory and the `.env`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def example(name: str) -> Path:
    """The packaged example `inventory.example.toml` or `env.example`, as a file on disk."""
    return Path(str(files(__name__) / name))
