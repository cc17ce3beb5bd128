"""Playwright harness for browser tests (Debian's headless Chromium, never `playwright install`).

Usage in a test module::

    pytestmark = pytest.mark.browser

    @pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)
    def test_something(browser_page, live_server, viewport):
        page = browser_page.goto(live_server.url + "/")
        ...
        browser_page.assert_clean()          # no console errors, page errors or CSP violations
        browser_page.screenshot("something")  # test-output/screenshots/something-<viewport>.png

See docs/design-system.md, "Writing a browser test".
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "small-phone": {"width": 360, "height": 740},
}

# Records CSP violations in the page; init scripts are injected by the browser, not subject to the CSP.
_CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def chromium_executable() -> str:
    """Debian's chromium; TONGBAN_CHROMIUM may point elsewhere. Missing → the test fails, loudly."""
    candidate = os.environ.get("TONGBAN_CHROMIUM") or "/usr/bin/chromium"
    if not (Path(candidate).is_file() and os.access(candidate, os.X_OK)):
        found = shutil.which("chromium")
        if found and not os.environ.get("TONGBAN_CHROMIUM"):
            return found
        pytest.fail(
            f"Chromium was not found at {candidate}. Browser tests need Debian's chromium package: "
            "run `make test`, which installs it (apt-get install chromium), or set TONGBAN_CHROMIUM.",
            pytrace=False,
        )
    return candidate


@pytest.fixture(scope="session")
def _playwright_browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev dependency group provides it
        pytest.fail("The playwright package is missing: run `make test` (uv sync installs it).", False)
    executable = chromium_executable()
    # Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls made by
    # the test itself (creating rows for the page) unless told that this is intended.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def viewport(request) -> str:
    """Parametrise indirectly with a key of VIEWPORTS; desktop when not parametrised."""
    name = getattr(request, "param", "desktop")
    if name not in VIEWPORTS:
        raise ValueError(f"unknown viewport {name!r}; use one of {sorted(VIEWPORTS)}")
    return name


@dataclass
class BrowserPage:
    """A Playwright page plus what went wrong on it (console errors, page errors, CSP violations)."""

    page: object
    viewport: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def goto(self, url: str, expected_status: int = 200):
        response = self.page.goto(url, wait_until="load")
        assert response is not None, f"no response for {url}"
        assert response.status == expected_status, f"{url} answered {response.status}"
        return self.page

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_clean(self) -> None:
        problems = {
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "CSP violations": self.csp_violations(),
        }
        assert not any(problems.values()), f"problems in the browser: {problems}"

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}-{self.viewport}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def browser_page(_playwright_browser, viewport) -> Iterator[BrowserPage]:
    size = VIEWPORTS[viewport]
    phone = viewport != "desktop"
    context = _playwright_browser.new_context(
        viewport=size,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    context.set_default_timeout(10_000)
    context.add_init_script(_CSP_PROBE)
    page = context.new_page()
    probe = BrowserPage(page=page, viewport=viewport)
    page.on("console", lambda msg: probe.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: probe.page_errors.append(str(error)))
    try:
        yield probe
    finally:
        context.close()
