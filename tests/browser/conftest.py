"""Headless Chromium from Debian's package, driven by Playwright. Never a downloaded browser."""

import shutil
import time
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google at start, which this
# offline machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:
    """Log in as a person does: the password, then the second factor. An account with an
    authenticator gives the code its app would show now; one without sets it up from the key
    on the enrollment page, confirms it with a code and goes on past its backup codes."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/account/two-factor/" in url)
    if "/set-up/" in page.url:
        secret = page.locator("#mfa-secret").inner_text()
        page.get_by_label("Code from your app").fill(_code_for(bytes_key=b32decode(secret.replace(" ", ""))))
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name="Your backup codes").wait_for()
        page.get_by_role("link", name="I have kept my codes: continue").click()
    else:
        page.get_by_label("Code").fill(_app_code(username))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/")


def _app_code(username: str) -> str:
    """The code the user's authenticator app shows: computed from the device's secret, one
    time step on if the current step's code was used already (django-otp refuses a code twice
    and accepts the next step's)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    step = int(time.time()) // device.step
    at = time.time() if device.last_t < step else (device.last_t + 1) * device.step
    return _code_for(bytes_key=device.bin_key, at=at)


def _code_for(*, bytes_key: bytes, at: float | None = None) -> str:
    generator = TOTP(bytes_key)  # django-otp's own RFC 6238 code: 30 s steps, 6 digits
    generator.time = time.time() if at is None else at
    return f"{generator.token():06d}"
