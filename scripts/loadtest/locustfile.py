"""50 care managers on the caseload dashboard and contact entry (make loadtest).

Each simulated user logs in through the real pages: password, then the second factor with the
code its authenticator app would show, computed (RFC 6238) from the device's secret read from
the bench database, as a phone would from its QR code. A TOTP code works once per account and
30-second step, so one login per account is made and its session shared by the simulated users
of that account (several tabs of one person); the server does the same work per request.

    LOADTEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/carereg_bench \
      locust -f scripts/loadtest/locustfile.py --headless -u 50 -r 10 -t 90s --host http://127.0.0.1:8765
"""

import hashlib
import hmac
import itertools
import os
import random
import re
import threading
import time

import psycopg
from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "carereg-demo-2026")  # the demo's published password
ACCOUNTS = os.environ.get("LOADTEST_USERS", "maria,james,priya,tom").split(",")
DATABASE_URL = os.environ.get("LOADTEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/carereg_bench")

_sessions: dict[str, dict] = {}
_login_lock = threading.Lock()
_numbers = itertools.count()


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else ""


def totp(key: bytes, at: float, step: int = 30, t0: int = 0, digits: int = 6, drift: int = 0) -> str:
    """RFC 6238 with SHA-1, as authenticator apps and django-otp compute it."""
    counter = int((at - t0) // step) + drift
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset : offset + 4], 'big') & 0x7FFFFFFF) % 10**digits:0{digits}d}"


def device_of(username: str):
    """The account's confirmed authenticator (key, step, t0, digits, drift), or None."""
    with psycopg.connect(DATABASE_URL) as db:
        return db.execute(
            "SELECT d.key, d.step, d.t0, d.digits, d.drift FROM otp_totp_totpdevice d"
            " JOIN accounts_user u ON u.id = d.user_id WHERE u.username = %s AND d.confirmed",
            [username],
        ).fetchone()


class CareManager(HttpUser):
    wait_time = between(1, 3)  # a person reading the page before the next click

    def on_start(self):
        self.account = ACCOUNTS[next(_numbers) % len(ACCOUNTS)]
        with _login_lock:
            if self.account not in _sessions:
                _sessions[self.account] = self.log_in(self.account)
        self.client.cookies.update(_sessions[self.account])
        self.patients = []

    def log_in(self, username: str) -> dict:
        page = self.client.get("/login/", name="login")
        response = self.client.post(
            "/login/",
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": hidden(page.text, "csrfmiddlewaretoken"),
            },
            name="login",
        )
        if "/account/two-factor/set-up/" in response.url:  # first login: enroll from the key shown
            key = bytes.fromhex(re.sub(r"\s", "", _secret_hex(response.text)))
            response = self.client.post(
                response.url,
                {"code": totp(key, time.time()), "csrfmiddlewaretoken": hidden(response.text, "csrfmiddlewaretoken")},
                name="two-factor set-up",
            )
            if "/backup-codes/" in response.url:  # shown once: "I have kept my codes: continue"
                response = self.client.get(re.search(r'href="([^"]+)">I have kept my codes', response.text).group(1))
        elif "/account/two-factor/" in response.url:
            key, step, t0, digits, drift = device_of(username)
            response = self.client.post(
                response.url,
                {
                    "code": totp(bytes.fromhex(key), time.time(), step, t0, digits, drift),
                    "csrfmiddlewaretoken": hidden(response.text, "csrfmiddlewaretoken"),
                },
                name="two-factor",
            )
        assert "/login/" not in response.url and "/two-factor/" not in response.url, f"login of {username} failed"
        return dict(self.client.cookies)

    @task(6)
    def dashboard(self):
        page = self.client.get("/caseload/", name="dashboard")
        self.patients = sorted(set(re.findall(r'href="/patients/(\d+)/"', page.text))) or self.patients

    @task(2)
    def patient_page(self):
        if self.patients:
            self.client.get(f"/patients/{random.choice(self.patients)}/", name="patient page")

    @task(2)
    def record_contact(self):
        if not self.patients:
            return
        url = f"/patients/{random.choice(self.patients)}/contacts/new/"
        with self.client.get(url, name="contact form", catch_response=True) as form:
            if form.status_code == 404:  # discharged since the dashboard was read: no open episode
                form.success()
            if form.status_code != 200:
                return
        answers = {f"phq9-item_{n}": str(random.randint(0, 2)) for n in range(1, 9)} | {"phq9-item_9": "0"}
        with self.client.post(
            url,
            {
                "csrfmiddlewaretoken": hidden(form.text, "csrfmiddlewaretoken"),
                "submission": hidden(form.text, "submission"),
                "contact_date": hidden(form.text, "contact_date"),  # today in the clinic's time zone
                "kind": "follow_up",
                "with_whom": "patient",
                "mode": "phone",
                "reached": "on",
                "minutes": "15",
                **answers,
            },
            name="save contact",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"contact not saved: {response.status_code}")


def _secret_hex(html: str) -> str:
    import base64

    secret = re.search(r'id="mfa-secret">([^<]+)<', html).group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
