"""Playwright in a thread of its own, for browser tests outside tests/browser.

The session browser of tests/browser/conftest.py may already hold this process's event loop when
both run in one xdist worker; a second sync_playwright in the test thread then fails ("Sync API
inside the asyncio loop"). These helpers start a fresh thread with its own Playwright and Debian's
Chromium, run the steps there and re-raise any failure in the test thread.

Usage::

    def steps(page, problems):
        page.goto(live_server.url + "/...")
        ...
        assert not problems, problems

    in_browser(steps, staff_cookie(user, live_server.url), viewport="desktop")

Each page records CSP violations in ``window.__cspViolations`` and collects console errors and
page errors in ``problems``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from django.conf import settings
from django.test import Client

from tests.browser.conftest import _CSP_PROBE, CHROMIUM_ARGS, VIEWPORTS, chromium_executable

Cookies = list[dict] | dict | None


def session_cookie(client: Client, live_server_url: str) -> dict:
    """The session cookie of a logged-in test client, for ``context.add_cookies``."""
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server_url,
    }


def staff_cookie(user, live_server_url: str) -> dict:
    """Log a staff user in (password + second factor, tests/catalog/factories.login_staff)."""
    from tests.catalog.factories import login_staff

    client = Client()
    login_staff(client, user)
    return session_cookie(client, live_server_url)


def _cookie_list(cookies: Cookies) -> list[dict]:
    if not cookies:
        return []
    return [cookies] if isinstance(cookies, dict) else list(cookies)


def open_page(browser, viewport: str = "phone", cookies: Cookies = None, timeout: int = 10_000):
    """A page in a new context of ``browser``: (page, problems). Phones are mobile with touch."""
    if viewport not in VIEWPORTS:
        raise ValueError(f"unknown viewport {viewport!r}; use one of {sorted(VIEWPORTS)}")
    phone = viewport != "desktop"
    context = browser.new_context(
        viewport=VIEWPORTS[viewport],
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=1,
    )
    context.set_default_timeout(timeout)
    context.add_init_script(_CSP_PROBE)
    if cookie_list := _cookie_list(cookies):
        context.add_cookies(cookie_list)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def assert_clean(page, problems: list[str], width: int) -> None:
    """No sideways scrolling beyond ``width`` px, no console/page errors, no CSP violations."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page scrolls sideways ({scroll}px)"
    problems.extend(page.evaluate("window.__cspViolations || []"))
    assert not problems, problems


def _run_with_browser(use: Callable, join: float, allow_async_unsafe: bool) -> None:
    """Call ``use(browser)`` in a fresh thread with its own Playwright; re-raise its failure here."""
    failure: list[BaseException] = []
    executable = chromium_executable()
    if allow_async_unsafe:  # the steps touch the database from Playwright's thread
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    def run():
        from django.db import connections
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
                try:
                    use(browser)
                finally:
                    browser.close()
        except BaseException as exc:  # re-raised in the test thread
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(join)
    assert not thread.is_alive(), f"the browser steps did not finish in {join:g} s"
    if failure:
        raise failure[0]


def in_browser(
    steps: Callable,
    cookies: Cookies = None,
    viewport: str = "phone",
    *,
    timeout: int = 10_000,
    join: float = 180,
    allow_async_unsafe: bool = False,
) -> None:
    """Run ``steps(page, problems)`` in one Chromium page (phone-sized by default) in a fresh thread.

    ``viewport`` is a key of tests/browser/conftest.VIEWPORTS; ``timeout`` is Playwright's default
    timeout in ms; ``join`` how long the test waits for the thread, in seconds.
    """

    def use(browser):
        page, problems = open_page(browser, viewport, cookies, timeout)
        steps(page, problems)

    _run_with_browser(use, join, allow_async_unsafe)


def in_browser_pages(
    steps: Callable,
    cookies: Cookies = None,
    *,
    timeout: int = 10_000,
    join: float = 180,
    allow_async_unsafe: bool = False,
) -> None:
    """Run ``steps(new_page)`` in a fresh thread; ``new_page(viewport)`` opens a page in a new
    context (with the cookies) and returns ``(page, problems)``. For tests visiting several viewports."""

    def use(browser):
        steps(lambda viewport="phone": open_page(browser, viewport, cookies, timeout))

    _run_with_browser(use, join, allow_async_unsafe)
