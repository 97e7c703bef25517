"""Headless Chromium through Selenium for the web client test (`test_web_client.py`).

`Browser` wraps one WebDriver session: explicit waits only (WebDriverWait), console errors collected from the
`goog:loggingPrefs` browser log, screenshots into `SCREENSHOTS`. Chromium and chromedriver come from Debian
(`chromium`, `chromium-driver`, installed by `make test` through scripts/deps.sh); Selenium from PyPI. When any of
them is missing the test fails and says which: it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from helpers import REPO_ROOT

STATIC_DIR = REPO_ROOT / "static"
ARTIFACTS = Path(__file__).resolve().parent / ".artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
UI_WAIT = 15.0

from selenium import webdriver  # noqa: E402  (pip install -r Tests/requirements.txt)
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException, StaleElementReferenceException, TimeoutException)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def chromium_paths() -> tuple[str, str]:
    binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    driver = os.environ.get("CHROMEDRIVER_BIN") or shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("headless Chromium needs the Debian packages chromium and chromium-driver (make deps)")
    return binary, driver


def png_bytes(width: int = 40, height: int = 30, rgb=(220, 60, 40)) -> bytes:
    """A small valid PNG (solid colour), made without any imaging library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class Browser:
    """One browser session (its own profile, so its own sessionStorage) against `base_url`."""

    def __init__(self, name: str, base_url: str, width: int = 1200, height: int = 800):
        binary, driver_path = chromium_paths()
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = binary
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions", "--disable-background-timer-throttling",
                     "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                     f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.set_capability("unhandledPromptBehavior", "ignore")
        self.name = name
        self.base_url = base_url
        self.driver = webdriver.Chrome(service=Service(driver_path), options=options)
        self.driver.set_page_load_timeout(UI_WAIT)
        self.logs: list[dict] = []

    # -- lifecycle ------------------------------------------------------------------------------------------

    def open(self, path: str = "/"):
        self.driver.get(self.base_url + path)

    def quit(self):
        try:
            self.collect_logs()
        finally:
            self.driver.quit()

    # -- waiting and finding -----------------------------------------------------------------------------------

    def wait(self, predicate, what: str, timeout: float = UI_WAIT):
        """Wait until `predicate(driver)` is truthy; fail naming `what` (and this browser) otherwise. An element that
        went stale while the predicate looked at it (the client re-rendered a list) just means: look again."""
        try:
            return WebDriverWait(
                self.driver, timeout, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)
            ).until(predicate)
        except TimeoutException:
            self.screenshot(f"timeout-{self.name}")
            raise AssertionError(f"[{self.name}] timed out after {timeout}s waiting for {what}; "
                                 f"console: {self.collect_logs()[-5:]}") from None

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css: str, what: str | None = None):
        def ready(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed():
                    return element
            return False
        return self.wait(ready, what or f"{css} visible")

    def click(self, css: str, what: str | None = None):
        element = self.visible(css, what)
        element.click()
        return element

    def fill(self, css: str, text: str):
        element = self.visible(css)
        element.clear()
        element.send_keys(text)
        return element

    def text_of(self, css: str) -> str:
        elements = self.find_all(css)
        return elements[0].text if elements else ""

    def wait_text(self, css: str, needle: str, what: str | None = None, timeout: float = UI_WAIT):
        """Wait until some element matching `css` shows `needle` in its rendered text; return that element."""
        def ready(driver):
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                try:
                    if needle in element.text:
                        return element
                except Exception:  # re-rendered under us: look again
                    continue
            return False
        return self.wait(ready, what or f"{css} containing {needle!r}", timeout)

    def message_texts(self) -> list[str]:
        return [element.text for element in self.find_all("#message-list .msg .msg-text")]

    # -- page-level checks ---------------------------------------------------------------------------------------

    def alert_text(self) -> str | None:
        try:
            return self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return None

    def collect_logs(self) -> list[dict]:
        try:
            self.logs += self.driver.get_log("browser")
        except Exception:  # the session is gone
            pass
        return self.logs

    def console_errors(self) -> list[str]:
        return [f"[{self.name}] {entry['level']}: {entry['message']}" for entry in self.collect_logs()
                if entry.get("level") == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def set_size(self, width: int, height: int):
        self.driver.set_window_size(width, height)

    # -- the app's screens -----------------------------------------------------------------------------------

    def register(self, username: str, password: str, display_name: str):
        self.open("/")
        self.click("#tab-register")
        self.fill("#reg-username", username)
        self.fill("#reg-email", f"{username}@example.com")
        self.fill("#reg-display", display_name)
        self.fill("#reg-password", password)
        self.find("#register-form button[type=submit]").click()
        self.visible("#app", "the app after registering")
        self.wait(lambda d: d.find_element(By.ID, "conn-status").get_attribute("data-state") == "online",
                  "the realtime connection")

    def open_room_with(self, display_name: str):
        self.click("#tab-rooms")
        element = self.wait_text("#room-list .room-item .room-name", display_name, f"a room with {display_name}")
        element.click()
        self.wait(lambda d: d.find_element(By.ID, "room-title").text == display_name, f"room {display_name} open")

    def type_message(self, text: str):
        box = self.visible("#composer-input")
        box.send_keys(text)
        return box

    def send(self, text: str):
        box = self.type_message(text)
        box.send_keys(Keys.ENTER)


__all__ = ["ARTIFACTS", "Browser", "By", "Keys", "SCREENSHOTS", "STATIC_DIR", "UI_WAIT", "png_bytes"]
