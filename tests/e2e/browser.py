"""A small W3C WebDriver client over plain HTTP, driving Debian's headless Chromium through chromedriver.

No selenium: WebDriver is JSON over HTTP, and httpx speaks that already.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.engine import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


class Browser:
    def __init__(self, driver_url: str, session_id: str) -> None:
        self.session_url = f"{driver_url}/session/{session_id}"
        self.http = httpx.Client(base_url=self.session_url, timeout=60)

    def quit(self) -> None:
        """End the session, which closes Chromium (the exact URL: a base URL would add a trailing slash)."""
        httpx.delete(self.session_url, timeout=30)
        self.http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(method, path, json=body if body is not None else ({} if method == "POST" else None))
        payload = answer.json()
        if answer.status_code != 200:
            raise AssertionError(f"WebDriver {method} {path}: {payload.get('value', payload)}")
        return payload["value"]

    def go(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", "/url"))

    def text(self, selector: str = "body") -> str:
        return str(self._call("GET", f"/element/{self.find(selector)}/text"))

    def text_with(self, selector: str, expected: str, timeout: float = 15.0) -> str:
        """The element's text once it holds `expected`: a form's answer arrives after the click returns,
        and until then the page before it is still there to read."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self.text(selector)
            except AssertionError:  # not there yet, or gone with the page it was on
                found = ""
            if expected in found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{selector} never showed {expected!r}; it shows {found!r}")
            time.sleep(0.1)

    def find(self, selector: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self._call("POST", "/element", {"using": "css selector", "value": selector})
                return str(next(iter(found.values())))
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def type(self, selector: str, text: str) -> None:
        self._call("POST", f"/element/{self.find(selector)}/value", {"text": text})

    def click(self, selector: str) -> None:
        self._call("POST", f"/element/{self.find(selector)}/click")

    def run(self, script: str, *args: Any) -> Any:
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def download(self, selector: str, directory: Path, timeout: float = 20.0) -> Path:
        """Click the link and wait for the file the browser saves into `directory` (Chromium's own download,
        allowed there through the DevTools protocol: headless Chromium saves nothing by default)."""
        directory.mkdir(parents=True, exist_ok=True)
        allow = {"behavior": "allow", "downloadPath": str(directory)}
        self._call("POST", "/goog/cdp/execute", {"cmd": "Browser.setDownloadBehavior", "params": allow})
        before = set(directory.iterdir())
        self.click(selector)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            saved = [path for path in set(directory.iterdir()) - before if path.suffix != ".crdownload"]
            if saved and saved[0].stat().st_size > 0:
                return saved[0]
            time.sleep(0.1)
        raise AssertionError(f"clicking {selector} saved no file in {directory}")

    def screenshot(self, *paths: Path) -> None:
        png = base64.b64decode(self._call("GET", "/screenshot"))
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png)


@contextmanager
def headless_chromium(downloads: Path | None = None) -> Iterator[Browser]:
    """A Chromium session; a file it downloads (a link followed) lands in `downloads`, if given."""
    port = free_port()
    profile = Path(tempfile.mkdtemp(prefix="clusterlabel-chromium-"))
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_driver(driver_url)
        options: dict[str, Any] = {"binary": CHROMIUM, "args": [*CHROME_ARGS, f"--user-data-dir={profile}"]}
        if downloads is not None:
            options["prefs"] = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        created = httpx.post(
            f"{driver_url}/session",
            json={"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}},
            timeout=60,
        ).json()["value"]
        browser = Browser(driver_url, created["sessionId"])
        try:
            yield browser
        finally:
            browser.quit()
    finally:
        driver.terminate()
        driver.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


def _wait_for_driver(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/status", timeout=2).json()["value"]["ready"]:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError("chromedriver did not start")
