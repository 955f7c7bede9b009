"""Errors that carry a message fit to show a person."""

from __future__ import annotations


class PulihError(Exception):
    """Base of every error Pulih raises on purpose."""


class ConfigError(PulihError):
    """Settings or inventory problems, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
