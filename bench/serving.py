"""The portal served by gunicorn as a deployment serves it, and people's sessions against it.

Shared by the reliability campaign (bench/reliability.py) and the load run (bench/load.py):
gunicorn logs in as the web login role with the environment it is given, and a `Browser`
keeps one person's cookies over plain HTTP on 127.0.0.1.
"""

import http.client
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
PORT = 8765
PASSWORD = "lynx-demo"


class Browser:
    """One person's session over plain HTTP: cookies kept by hand (they are Secure)."""

    def __init__(self, port: int = PORT) -> None:
        self.cookies: dict[str, str] = {}
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return 599, b"", time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data, time.perf_counter() - started

    def sign_in(self, username: str, password: str = PASSWORD) -> bool:
        self.request("GET", "/admin/login/")
        status, _, _ = self.request(
            "POST", "/admin/login/", {"username": username, "password": password}
        )
        return status == 302


def start_gunicorn(env: dict, *, port: int, workers: int, threads: int) -> subprocess.Popen:
    """The portal under gunicorn on 127.0.0.1:`port`, with `env` (the web login role)."""
    return subprocess.Popen(
        [
            str(Path(PY).parent / "gunicorn"),
            "lynxportal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "60",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until_serving(*, port: int = PORT, timeout: float = 60) -> None:
    """Until gunicorn answers the sign-in page: a busy machine may take seconds to start it."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        status, _, _ = Browser(port=port).request("GET", "/admin/login/")
        if status == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")
