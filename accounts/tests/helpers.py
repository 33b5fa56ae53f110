"""Logging in as a person does, through the forms: the real flow, not force_login."""

import time

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import current_code
from tests.factories import PASSWORD


def password_step(client, username: str, password: str = PASSWORD, next_url: str = "", **extra):
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data, **extra)


def app_code(user, *, steps_on: int = 0) -> str:
    """The code the user's authenticator app shows now (or a later step's)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return current_code(device, at=time.time() + steps_on * device.step)


def enroll_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
