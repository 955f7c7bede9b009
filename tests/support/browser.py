"""Debian's Chromium driven by Playwright, as a person's phone or desktop browser: no
browser is downloaded; Chromium is started with the flags this closed machine needs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, sync_playwright

from tests.support.pdf import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SHOTS = ARTIFACTS / "web"


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the block."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Chromium is missing: install Debian's chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


def shot_path(name: str) -> Path:
    """Where a screenshot is kept for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"
