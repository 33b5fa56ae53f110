"""A browser signed in without typing: the session of a whole login (password and second
factor, as conftest's force_login gives) put in the browser's cookie jar."""

from django.conf import settings
from django.test import Client


def log_in_as(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def tab_to(page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching selector has the focus, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")
