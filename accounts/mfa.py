"""The second factor (django-otp): an authenticator app's time-based code (TOTP, RFC 6238)
or one of ten single-use backup codes.

Every staff account enrolls at its first login; until a session is verified with a code,
every page but login, logout and these steps sends it here (accounts.middleware).
"""

import base64
import hashlib
import hmac
import logging
import re
import time

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User

log = logging.getLogger("carereg.auth")

BACKUP_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
TOTP_SHAPE = re.compile(r"^\d{6}$")

# The demo's published seed: demo accounts' authenticator secrets are derived from it, so
# anyone trying the demo can get a code with `manage.py demo_code USERNAME`. Never used for
# an account that is not a demo account.
DEMO_TOTP_SEED = "carereg-demo-totp-seed-2026"


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_app_device(user: User) -> TOTPDevice:
    """The authenticator device being enrolled: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app's "enter a key" field wants it: base32, in groups of four."""
    b32 = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URL as a QR code in inline SVG markup, drawn here (no network, no
    script, no data: URI)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=16, border=2)
    svg = image.to_string(encoding="unicode")
    svg = svg.replace("<svg ", '<svg role="img" aria-label="QR code of your authenticator secret" ', 1)
    return mark_safe(svg)  # drawn by qrcode from our own otpauth URL: no user text in it


def normalize(token: str) -> str:
    return re.sub(r"[\s-]", "", token or "").lower()


def new_backup_codes(user: User) -> list[str]:
    """Replace the account's backup codes with ten new ones; shown once, then only matched."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def confirm_enrollment(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the app with a code it shows; return the new backup codes, or None if the code
    is wrong."""
    token = normalize(token)
    if device.user_id != user.pk or not TOTP_SHAPE.match(token) or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    log.info("mfa enrolled user_id=%s", user.pk)
    return new_backup_codes(user)


def check_code(user: User, token: str):
    """The confirmed device that accepts this code (six digits: the app; otherwise a backup
    code, which is then used up), or None."""
    token = normalize(token)
    model = TOTPDevice if TOTP_SHAPE.match(token) else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True):
        verified = verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def remaining_backup_codes(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def mark_verified(request, device) -> None:
    """The session has given its second factor (django_otp.login); a new session key, so a key
    seen before verification is worth nothing after it."""
    request.session.cycle_key()
    otp_login(request, device)


def is_verified_session(request) -> bool:
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


@transaction.atomic
def reset_mfa(*, user: User, by: User | None, reason: str) -> None:
    """Lost phone: remove the account's app and backup codes, end its sessions; it enrolls
    again at its next login. Kept in the account's history with who and why."""
    reason = (reason or "").strip()
    if not reason:
        from django.core.exceptions import ValidationError

        raise ValidationError({"reason": "Say why the second factor is reset (for example: lost phone)."})
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user._history_user = by
    user._change_reason = f"Two-factor reset: {reason}"[:100]
    user.end_sessions()
    log.info("mfa reset user_id=%s by=%s", user.pk, by.pk if by else "command")


# --- The demo -----------------------------------------------------------------------------


def demo_key(username: str) -> str:
    """A 20-byte TOTP secret (hex, as django-otp keeps it) derived from the published seed."""
    return hmac.new(DEMO_TOTP_SEED.encode(), username.encode(), hashlib.sha1).hexdigest()


def ensure_demo_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True, key=demo_key(user.username)).first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, key=demo_key(user.username))
    return device


def demo_device(user: User) -> TOTPDevice | None:
    """The account's authenticator if its secret is the demo's (derived from the published
    seed, so it protects nothing); None for any other account."""
    return TOTPDevice.objects.filter(user=user, confirmed=True, key=demo_key(user.username)).first()


def ensure_demo_devices(usernames) -> int:
    """Give each existing demo account its demo authenticator; returns how many have one."""
    users = list(User.objects.filter(username__in=list(usernames)))
    for user in users:
        ensure_demo_device(user)
    return len(users)


def current_code(device: TOTPDevice, at: float | None = None) -> str:
    """The code the device's app shows now (or at a given time), as the server computes it."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"
