"""Browser tests: Debian's headless Chromium driven through its chromium-driver by Selenium,
against the live ASGI server (tests/live.py) on the test database. Each test gets a `browser`
factory; every page it opens is checked for JavaScript errors when the test ends (there must be
none), and `shot(name)` writes a screenshot under var/test-output/browser/<test>/ (or
$MX_TEST_OUTPUT/browser/<test>/) for a person to look at."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.live import serving

os.environ["MX_TEST_MODES"] = "1"  # before the shared Celery worker starts: test_slow jobs too

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
OUTPUT = Path(os.environ.get("MX_TEST_OUTPUT") or REPO / "var" / "test-output") / "browser"
PHONE = (375, 812)
DESKTOP = (1280, 900)


class Browser:
    """One Chromium window. `errors()` are the page's JavaScript errors so far (console SEVERE
    entries: uncaught exceptions, failed module loads, console.error)."""

    def __init__(self, folder: Path, size: tuple[int, int]) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     f"--window-size={max(size[0], 800)},{size[1]}", "--lang=zh-CN"):
            options.add_argument(flag)
        if size[0] < 500:  # headless windows are at least 500 px wide: emulate a phone instead
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
                "width": size[0], "height": size[1], "pixelRatio": 2, "touch": True}})
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        self.folder = folder
        self.log: list[dict] = []

    def console(self) -> list[dict]:
        self.log.extend(self.driver.get_log("browser"))
        return self.log

    def errors(self) -> list[str]:
        return [entry["message"] for entry in self.console() if entry["level"] == "SEVERE"]

    def shot(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="module")
def app_server(django_db_setup, tmp_path_factory, request):
    """The app as a browser sees it; jobs run on a real Celery worker on the services stack."""
    with serving(request, tmp_path_factory, "browser-asgi") as live:
        yield live


@pytest.fixture
def browser(request):
    """`browser(size=PHONE)` opens a window; at the end of the test every window must have
    logged no JavaScript error, and is closed."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are not installed: run scripts/setup")
    folder = OUTPUT / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    opened: list[Browser] = []

    def open_window(size: tuple[int, int] = DESKTOP) -> Browser:
        window = Browser(folder, size)
        opened.append(window)
        return window

    yield open_window
    try:
        errors = [error for window in opened for error in window.errors()]
        if not request.node.get_closest_marker("js_errors_expected"):
            assert errors == [], f"JavaScript errors in the page: {errors}"
    finally:
        for window in opened:
            window.quit()
