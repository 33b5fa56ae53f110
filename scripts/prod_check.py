"""`make prod-check`: CareReg as a clinic runs it, brought up on loopback and checked through TLS.

PostgreSQL (its own database) and Redis (its own database number), both running already; two
gunicorn instances with the shipped settings (deploy/gunicorn.conf.py), a Celery worker and
beat, and nginx with the shipped site (deploy/nginx/carereg.conf) and a self-signed
certificate. Each check prints a line as it passes; the first failure stops the run. Everything
started here is stopped at the end, and the database and Redis number are emptied.

Besides the shipped site, nginx listens on two more ports that each reach one instance only
("pinned"), so a check can save through one instance and read through the other. Every
address and name can be changed through PROD_CHECK_* variables (scripts/prod_check.sh).
See docs/deployment.md#prod-check.
"""

import base64
import contextlib
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(os.environ.get("VENV", REPO / ".venv")) / "bin"


def setting(name: str, default: str) -> str:
    return os.environ.get(f"PROD_CHECK_{name}", default)


HTTPS_PORT = int(setting("HTTPS_PORT", "18443"))
HTTP_PORT = int(setting("HTTP_PORT", "18080"))
WEB_PORTS = [int(port) for port in setting("WEB_PORTS", "18001,18002").split(",")]
PINNED_PORTS = [int(port) for port in setting("PINNED_PORTS", "18444,18445").split(",")]
POSTGRES = setting("POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DATABASE = setting("DATABASE", "carereg_prodcheck")
REDIS_URL = setting("REDIS_URL", "redis://127.0.0.1:6379/5")
NGINX = setting("NGINX", shutil.which("nginx") or "/usr/sbin/nginx")
HOST = "127.0.0.1"
PASSWORD = "prod-check-" + secrets.token_urlsafe(12)
SWEEP_SECONDS, LEASE_SECONDS = 2, 5


class CheckFailed(Exception):
    pass


def expect(condition, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


# --- The deployment ---------------------------------------------------------------------------


class Deployment:
    """The processes, their files and their data; stop() undoes everything start() did."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="carereg-prodcheck-"))
        self.processes: dict[str, subprocess.Popen] = {}
        self.database_made = False
        self.env = {
            **os.environ,
            "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
            "CELERY_BROKER_URL": REDIS_URL,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DEBUG": "false",
            "CAREREG_HTTPS": "true",
            "BEHIND_PROXY": "true",
            "TRUSTED_PROXIES": "127.0.0.1,::1",
            "ALLOWED_HOSTS": HOST,
            "CSRF_TRUSTED_ORIGINS": ",".join(f"https://{HOST}:{p}" for p in [HTTPS_PORT, *PINNED_PORTS]),
            "CAREREG_BASE_URL": f"https://{HOST}:{HTTPS_PORT}",
            "CAREREG_FLAG_SWEEP_SECONDS": str(SWEEP_SECONDS),
            "CAREREG_FLAG_REFRESH_LEASE_SECONDS": str(LEASE_SECONDS),
            "CELERY_BEAT_SCHEDULE_FILENAME": str(self.dir / "celerybeat-schedule"),
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "2",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
        }
        for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "CAREREG_TASKS_IN_PROCESS", "REDIS_URL"):
            self.env.pop(name, None)

    # Data ----------------------------------------------------------------------------------

    def make_database(self) -> None:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
        self.database_made = True
        redis.Redis.from_url(REDIS_URL).flushdb()

    def provision(self) -> None:
        """As a clinic's administrator would: migrate, collect the static files (in a process of
        its own, meanwhile), make the accounts. In this process, which has the instances' settings."""
        from django.core.management import call_command

        collect = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        call_command("migrate", "--noinput", verbosity=0)
        call_command("seed_demo", patients=12, seed=2026, stdout=io.StringIO())
        os.environ["CAREREG_PASSWORD"] = PASSWORD
        for username in ("checker", "lockme"):
            call_command("create_staff", username, role="care_manager", clinic="north", stdout=io.StringIO())
        del os.environ["CAREREG_PASSWORD"]
        output, _ = collect.communicate()
        expect(collect.returncode == 0, f"collectstatic failed:\n{output}")

    # Processes -----------------------------------------------------------------------------

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        """Each in its own process group: stopping it stops its workers too."""
        log = (self.dir / f"{name}.log").open("w")
        process = subprocess.Popen(
            command, cwd=REPO, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def start_web(self, index: int) -> None:
        # As the unit carereg-web@.service runs it.
        self.start(
            f"web{index + 1}",
            [
                str(VENV_BIN / "gunicorn"),
                "carereg.wsgi",
                "--config",
                str(REPO / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"{HOST}:{WEB_PORTS[index]}",
            ],
        )

    def start_worker(self, name: str = "worker") -> None:
        self.start(
            name, [str(VENV_BIN / "celery"), "-A", "carereg", "worker", "--loglevel", "INFO", "--concurrency", "2"]
        )

    def start_all(self) -> None:
        self.write_certificate()
        self.write_nginx_config()
        for index in range(len(WEB_PORTS)):
            self.start_web(index)
        self.start_worker()
        self.start("beat", [str(VENV_BIN / "celery"), "-A", "carereg", "beat", "--loglevel", "INFO"])
        self.start("nginx", [NGINX, "-c", str(self.dir / "nginx.conf"), "-g", "daemon off;"])
        deadline = time.monotonic() + 120
        for port in PINNED_PORTS:
            while Browser(port).status("/login/") != 200:
                expect(time.monotonic() < deadline, f"no instance answers through port {port}: {self.logs()}")
                time.sleep(0.5)
        self.wait_for_log("worker", "ready.")

    def wait_for_log(self, name: str, text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.log(name):
            expect(self.processes[name].poll() is None, f"{name} stopped: {self.log(name)[-2000:]}")
            expect(time.monotonic() < deadline, f"{name} did not start: {self.log(name)[-2000:]}")
            time.sleep(0.3)

    def signal(self, name: str, sig: int) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)

    def stop(self, name: str, seconds: float = 20) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(seconds)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        _kill_group_leftovers(process.pid)

    def log(self, name: str) -> str:
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-1500:]}" for name in self.processes)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.database_made:
            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            redis.Redis.from_url(REDIS_URL).flushdb()
        shutil.rmtree(self.dir, ignore_errors=True)

    # Files ---------------------------------------------------------------------------------

    def write_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={HOST}"]
            + ["-addext", f"subjectAltName=IP:{HOST}", "-keyout", str(self.dir / "tls.key")]
            + ["-out", str(self.dir / "tls.pem")],
            check=True,
            capture_output=True,
        )

    def write_nginx_config(self) -> None:
        """The shipped site with this check's ports and paths, two pinned servers beside it, in
        a main configuration of its own (nothing of the host's nginx is touched)."""
        site = (REPO / "deploy" / "nginx" / "carereg.conf").read_text()
        replacements = {
            "server 127.0.0.1:8001": f"server {HOST}:{WEB_PORTS[0]}",
            "server 127.0.0.1:8002": f"server {HOST}:{WEB_PORTS[1]}",
            "listen 80;": f"listen {HOST}:{HTTP_PORT};",
            "listen 443 ssl;": f"listen {HOST}:{HTTPS_PORT} ssl;",
            "server_name carereg.example.org;": f"server_name {HOST};",
            "/etc/ssl/certs/carereg.example.org.pem": str(self.dir / "tls.pem"),
            "/etc/ssl/private/carereg.example.org.key": str(self.dir / "tls.key"),
            "/srv/carereg/staticfiles/": f"{REPO / 'staticfiles'}/",
            "/var/log/nginx/carereg-access.log": str(self.dir / "nginx-access.log"),
            "https://$host$request_uri": f"https://$host:{HTTPS_PORT}$request_uri",
        }
        for old, new in replacements.items():
            expect(old in site, f"deploy/nginx/carereg.conf no longer has {old!r}: update scripts/prod_check.py")
            site = site.replace(old, new)
        site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)  # loopback only
        (self.dir / "carereg.conf").write_text(site)
        main_server = site[site.rindex("server {") :]
        pinned = []
        for port, web in zip(PINNED_PORTS, WEB_PORTS, strict=True):
            pinned.append(f"upstream carereg_{web} {{ server {HOST}:{web}; }}")
            pinned.append(
                main_server.replace(f"listen {HOST}:{HTTPS_PORT} ssl;", f"listen {HOST}:{port} ssl;")
                .replace("proxy_pass http://carereg;", f"proxy_pass http://carereg_{web};")
                .replace("ssl_session_cache shared:carereg_tls:10m;", "")
            )
        (self.dir / "pinned.conf").write_text("\n".join(pinned))
        temp = self.dir / "nginx-temp"
        temp.mkdir()
        (self.dir / "nginx.conf").write_text(
            f"""worker_processes 1;
pid {self.dir / "nginx.pid"};
error_log {self.dir / "nginx-error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.dir / "carereg.conf"};
    include {self.dir / "pinned.conf"};
}}
"""
        )
        tested = subprocess.run(
            [NGINX, "-t", "-q", "-c", str(self.dir / "nginx.conf")], capture_output=True, text=True, check=False
        )
        expect(tested.returncode == 0, f"nginx -t refused the site:\n{tested.stderr}")


def _kill_group_leftovers(group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


# --- A browser ------------------------------------------------------------------------------


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: str):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


class Browser:
    """HTTPS to one port of nginx, trusting only the check's certificate; keeps its cookies
    and sends Origin with each form, as a browser does."""

    def __init__(self, port: int = HTTPS_PORT, certificate: Path | None = None):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.cookie_flags: dict[str, str] = {}
        self.context = ssl.create_default_context(cafile=str(certificate)) if certificate else None

    def on(self, port: int) -> "Browser":
        """The same browser (cookies), through another port."""
        other = Browser(port)
        other.cookies, other.cookie_flags, other.context = self.cookies, self.cookie_flags, self.context
        return other

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Response:
        context = self.context or ssl._create_unverified_context()  # only before the certificate exists
        conn = http.client.HTTPSConnection(HOST, self.port, context=context, timeout=60)
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            sent |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{HOST}:{self.port}"}
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            for raw in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(raw).items():
                    self.cookies[name] = morsel.value
                    self.cookie_flags[name] = raw
            return Response(response.status, response.headers, response.read().decode(errors="replace"))
        finally:
            conn.close()

    def get(self, path: str, **headers) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict, **headers) -> Response:
        return self.request(
            "POST", path, form={"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **form}, headers=headers
        )

    def status(self, path: str) -> int | None:
        try:
            return self.get(path).status
        except OSError:
            return None


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    expect(found, f"no {name} on the page")
    return found.group(1)


def totp(secret_text: str, steps_on: int = 0) -> str:
    """The code an authenticator app shows for this key now (or steps_on 30-s steps later: a
    code is accepted once, and the server takes the next step's too)."""
    from django_otp.oath import totp as rfc6238  # the same computation an authenticator app makes

    key = base64.b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    return f"{rfc6238(key, drift=steps_on):06d}"


# --- The checks -------------------------------------------------------------------------------


class Checks:
    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.certificate = deployment.dir / "tls.pem"
        self.secret = ""
        self.session: Browser | None = None
        self.passed = 0

    def browser(self, port: int = HTTPS_PORT) -> Browser:
        return Browser(port, self.certificate)

    def run(self, name: str, check) -> None:
        started = time.monotonic()
        detail = check()
        self.passed += 1
        print(f"  ok  {name}{f' ({detail})' if detail else ''} [{time.monotonic() - started:.1f} s]", flush=True)

    def tls_hsts_and_redirect(self) -> str:
        conn = http.client.HTTPConnection(HOST, HTTP_PORT, timeout=10)
        conn.request("GET", "/login/")
        plain = conn.getresponse()
        expect(plain.status == 301, f"plain HTTP answered {plain.status}")
        expect(plain.getheader("Location", "").startswith(f"https://{HOST}:{HTTPS_PORT}/"), "no redirect to HTTPS")
        login = self.browser().get("/login/")
        expect(login.status == 200, f"the login page answered {login.status}")
        hsts = login.header("Strict-Transport-Security")
        expect("max-age=31536000" in hsts and "includeSubDomains" in hsts, f"HSTS is {hsts!r}")
        return f"certificate verified, http -> https 301, {hsts}"

    def log_in_with_the_second_factor(self) -> str:
        browser = self.browser(PINNED_PORTS[0])
        browser.get("/login/")
        answer = browser.post("/login/", {"username": "checker", "password": PASSWORD})
        expect(answer.status == 302, f"password step answered {answer.status}")
        setup = browser.get("/account/two-factor/set-up/")
        expect(setup.status == 200, f"set-up page answered {setup.status}")
        self.secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', setup.body).group(1)
        enrolled = browser.post("/account/two-factor/set-up/", {"code": totp(self.secret)})
        expect(enrolled.status == 302, f"enrollment answered {enrolled.status}")
        expect(browser.get("/account/two-factor/backup-codes/").status == 200, "no backup codes page")
        expect(browser.on(PINNED_PORTS[1]).get("/caseload/").status == 200, "the caseload refused the verified session")
        session_cookie, csrf_cookie = browser.cookie_flags["sessionid"], browser.cookie_flags["csrftoken"]
        expect("Secure" in session_cookie and "HttpOnly" in session_cookie, f"session cookie: {session_cookie}")
        expect("Secure" in csrf_cookie, f"CSRF cookie: {csrf_cookie}")
        self.session = browser
        return "enrolled at first login with the app's code; session and CSRF cookies Secure, session HttpOnly"

    def contact_saved_on_one_instance_read_on_the_other(self) -> str:
        first, second = self.session.on(PINNED_PORTS[0]), self.session.on(PINNED_PORTS[1])
        patient = self.patient_id(first)
        note = f"prod-check {uuid.uuid4()}"
        saved = self.save_contact(first, patient, note)
        expect(saved.status == 302, f"the save through instance 1 answered {saved.status}")
        page = second.get(f"/patients/{patient}/")
        expect(page.status == 200 and note in page.body, "instance 2 does not show the contact saved on instance 1")
        return f"patient {patient}: saved through :{WEB_PORTS[0]}, shown by :{WEB_PORTS[1]}"

    def patient_id(self, browser: Browser) -> int:
        dashboard = browser.get("/caseload/?team=all")
        ids = re.findall(r'href="/patients/(\d+)/"', dashboard.body)
        expect(ids, "no patient on the dashboard")
        return int(ids[0])

    def save_contact(self, browser: Browser, patient: int, note: str) -> Response:
        form_page = browser.get(f"/patients/{patient}/contacts/new/")
        expect(form_page.status == 200, f"the contact form answered {form_page.status}")
        form = {
            "submission": hidden(form_page.body, "submission"),
            "contact_date": time.strftime("%Y-%m-%d"),
            "kind": "follow_up",
            "with_whom": "patient",
            "mode": "phone",
            "reached": "on",
            "minutes": "15",
            "note": note,
        }
        return browser.post(f"/patients/{patient}/contacts/new/", form)

    def lockout_shared_and_not_fooled(self) -> str:
        browsers = [self.browser(port) for port in PINNED_PORTS]
        for browser in browsers:
            browser.get("/login/")
        for attempt in range(5):  # the limit; alternating instances, each claiming another address
            answer = browsers[attempt % 2].post(
                "/login/", {"username": "lockme", "password": "wrong"}, **{"X-Forwarded-For": f"198.51.100.{attempt}"}
            )
            expect(answer.status in (200, 429), f"failed attempt {attempt + 1} answered {answer.status}")
        for browser in browsers:
            locked = browser.post(
                "/login/", {"username": "lockme", "password": PASSWORD}, **{"X-Forwarded-For": "192.0.2.1"}
            )
            expect(locked.status == 429, f"after 5 failures, port {browser.port} answered {locked.status}")
        from axes.models import AccessAttempt

        addresses = set(AccessAttempt.objects.filter(username="lockme").values_list("ip_address", flat=True))
        expect(addresses == {HOST}, f"failures counted against {addresses}")
        return "5 failures over both instances lock the account on both; forged X-Forwarded-For ignored"

    def second_factor_throttle_shared(self) -> str:
        browsers = [self.browser(port) for port in PINNED_PORTS]
        browsers[0].get("/login/")
        expect(browsers[0].post("/login/", {"username": "checker", "password": PASSWORD}).status == 302, "password")
        browsers[1].cookies, browsers[1].cookie_flags = browsers[0].cookies, browsers[0].cookie_flags
        for _ in range(3):
            wrong = browsers[0].post("/account/two-factor/", {"code": "000000"})
            expect(wrong.status == 400, f"a wrong code answered {wrong.status}")
        # The enrollment used this step's code: the next step's is new (and accepted, once).
        right = totp(self.secret, steps_on=1)
        throttled = browsers[1].post("/account/two-factor/", {"code": right})
        expect(throttled.status == 400, "instance 2 took a code while instance 1's wrong codes still throttle")
        time.sleep(4.5)  # three failures: django-otp waits 2^(3-1) s
        accepted = browsers[1].post("/account/two-factor/", {"code": right})
        expect(accepted.status == 302, f"the right code after the wait answered {accepted.status}")
        from django.conf import settings

        cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
        return f"3 wrong codes on instance 1 throttle instance 2 (counters in PostgreSQL); Django cache: {cache}"

    def static_files_under_the_csp(self) -> str:
        page = self.browser().get("/login/")
        csp = page.header("Content-Security-Policy")
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
            expect(directive in csp, f"CSP lacks {directive}: {csp}")
        assets = re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/static/[^"]+)"', page.body)
        expect(assets, "the page links no static file")
        for asset in assets:
            served = self.browser().get(asset)
            expect(served.status == 200, f"{asset} answered {served.status}")
            expect("immutable" in served.header("Cache-Control"), f"{asset} not served by nginx's static location")
            kind = "text/css" if asset.endswith(".css") else "javascript"
            expect(kind in served.header("Content-Type"), f"{asset} served as {served.header('Content-Type')}")
        default_src = next(part.strip() for part in csp.split(";") if part.strip().startswith("default-src"))
        return f"{len(assets)} files, same origin, served by nginx with a year's cache; CSP {default_src}"

    def request_size_limit(self) -> str:
        conn = http.client.HTTPSConnection(
            HOST, HTTPS_PORT, context=ssl.create_default_context(cafile=str(self.certificate))
        )
        conn.putrequest("POST", "/login/")
        conn.putheader("Content-Length", str(21 * 1024 * 1024))
        conn.putheader("Content-Type", "application/x-www-form-urlencoded")
        conn.endheaders()
        status = conn.getresponse().status
        conn.close()
        expect(status == 413, f"a 21 MB body answered {status}")
        return "a 21 MB body is refused by nginx (413) before it reaches an instance"

    def worker_killed_mid_job(self) -> str:
        from django.db import connection, transaction

        from consults.models import Recommendation
        from registry.flags import RULE_KINDS, refresh_flags
        from registry.models import Flag, FlagRefreshRequest
        from registry.tasks import refresh_all_flags

        def fresh_refresh_would_change() -> int:
            with transaction.atomic():
                changed = refresh_flags().changed
                transaction.set_rollback(True)
            return changed

        Flag.objects.filter(kind__in=RULE_KINDS, raised_by__isnull=True).delete()  # as if no refresh had run
        stale = fresh_refresh_would_change()
        expect(stale > 0, "no flag to refresh")
        with psycopg.connect(self.deployment.env["DATABASE_URL"]) as locker:
            # Hold the job at the open-recommendation rule: the rules before it commit, the rest wait.
            locker.execute(f"LOCK TABLE {Recommendation._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            refresh_all_flags.delay()
            deadline = time.monotonic() + 60
            while not waiting_on(Recommendation._meta.db_table):
                expect(time.monotonic() < deadline, "the worker never reached the held rule")
                time.sleep(0.2)
            self.deployment.signal("worker", signal.SIGKILL)  # the worker and its pool, mid-job
            self.deployment.stop("worker")
            locker.rollback()
        connection.close()
        half_done = fresh_refresh_would_change()
        expect(0 < half_done < stale, f"not half done: {half_done} of {stale} changes left")
        expect(FlagRefreshRequest.objects.filter(episode=None).exists(), "the job's request went with its worker")
        killed_at = time.monotonic()
        self.deployment.start_worker("replacement worker")
        deadline = killed_at + LEASE_SECONDS + SWEEP_SECONDS + 60
        while FlagRefreshRequest.objects.exists() or fresh_refresh_would_change():
            expect(time.monotonic() < deadline, "the flags were not refreshed after the worker was replaced")
            time.sleep(0.5)
        return (
            f"{stale - half_done} of {stale} flag changes made when SIGKILL hit; the replacement finished the rest "
            f"{time.monotonic() - killed_at:.0f} s later (lease {LEASE_SECONDS} s, sweep every {SWEEP_SECONDS} s)"
        )

    def web_instance_stopped_mid_load(self) -> str:
        from registry.models import Contact

        browser = self.session.on(HTTPS_PORT)
        patients = list(dict.fromkeys(re.findall(r'href="/patients/(\d+)/"', browser.get("/caseload/?team=all").body)))
        results, lock = [], threading.Lock()
        stop_at = time.monotonic() + 12

        def load(index: int) -> None:
            while time.monotonic() < stop_at:
                patient = int(patients[(index + len(results)) % len(patients)])
                if index % 3 == 0:  # one in three users saves contacts
                    note = f"load {uuid.uuid4()}"
                    try:
                        answer = self.save_contact(browser, patient, note).status
                    except (CheckFailed, OSError) as error:
                        answer = str(error)[:60]
                    with lock:
                        results.append(("POST", answer, note))
                else:
                    try:
                        answer = browser.get(f"/patients/{patient}/").status
                    except OSError as error:
                        answer = str(error)[:60]
                    with lock:
                        results.append(("GET", answer, None))

        threads = [threading.Thread(target=load, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        self.deployment.signal("web1", signal.SIGTERM)  # `systemctl stop carereg-web@...`: graceful
        for thread in threads:
            thread.join()
        self.deployment.stop("web1")
        self.deployment.start_web(0)  # systemd's Restart=always

        gets = [answer for method, answer, _ in results if method == "GET"]
        posts = [(answer, note) for method, answer, note in results if method == "POST"]
        expect(all(answer == 200 for answer in gets), f"GETs lost: {[a for a in gets if a != 200]}")
        saved = {note: Contact.objects.filter(note=note).count() for _, note in posts}
        for answer, note in posts:
            if answer == 302:
                expect(saved[note] == 1, f"a save answered 302 is stored {saved[note]} times")
            else:
                expect(saved[note] == 0, f"a save answered {answer} was stored anyway")
        accepted = sum(1 for answer, _ in posts if answer == 302)
        retried = self.retried_requests()
        return (
            f"{len(gets)} GETs all 200, {accepted} of {len(posts)} saves answered 302 and stored once, "
            f"{len(posts) - accepted} refused and not stored; {retried} requests retried on the other instance"
        )

    def retried_requests(self) -> int:
        log = self.deployment.dir / "nginx-access.log"
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        return sum(1 for line in lines if "," in line["upstream"])


def waiting_on(table: str) -> bool:
    with psycopg.connect(f"{POSTGRES}/{DATABASE}", autocommit=True) as admin:
        return bool(
            admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s", [f"%{table}%"]
            ).fetchone()
        )


def main() -> int:
    started = time.monotonic()
    deployment = Deployment()

    def stop_on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    checks = Checks(deployment)
    try:
        print(f"prod-check: PostgreSQL {POSTGRES}/{DATABASE}, Redis {REDIS_URL}, https://{HOST}:{HTTPS_PORT}")
        deployment.make_database()
        # This process takes the instances' settings: it provisions, and its checks read the
        # database as they do.
        os.environ.update(deployment.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")
        sys.path.insert(0, str(REPO))
        import django

        django.setup()
        deployment.provision()
        print(f"  ..  migrated, static collected, demo data and two accounts made [{time.monotonic() - started:.0f} s]")
        deployment.start_all()
        print(
            f"  ..  nginx :{HTTPS_PORT} (pinned :{PINNED_PORTS[0]}, :{PINNED_PORTS[1]}), gunicorn :{WEB_PORTS[0]} "
            f"and :{WEB_PORTS[1]}, Celery worker and beat up [{time.monotonic() - started:.0f} s]",
            flush=True,
        )
        checks.run("TLS with the site's certificate, HTTP redirected, HSTS", checks.tls_hsts_and_redirect)
        checks.run("login with the second factor, secure cookies", checks.log_in_with_the_second_factor)
        checks.run(
            "a contact saved through one instance is read through the other",
            checks.contact_saved_on_one_instance_read_on_the_other,
        )
        checks.run("a lockout counted on one instance holds on the other", checks.lockout_shared_and_not_fooled)
        checks.run("rate-limit counters are shared", checks.second_factor_throttle_shared)
        checks.run("static files load under the CSP", checks.static_files_under_the_csp)
        checks.run("request size limit", checks.request_size_limit)
        checks.run(
            "a worker killed mid-job leaves correct flags after its replacement runs", checks.worker_killed_mid_job
        )
        checks.run("a web instance stopped mid-load loses no accepted request", checks.web_instance_stopped_mid_load)
    except CheckFailed as failure:
        print(f"FAIL  {failure}", flush=True)
        print(deployment.logs()[-6000:])
        return 1
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        deployment.stop_all()
    print(f"prod-check: {checks.passed} checks passed in {time.monotonic() - started:.0f} s; everything stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
