"""What the benchmark starts and stops: MariaDB (the project's script), its database, and gunicorn."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import MySQLdb

ROOT = Path(__file__).resolve().parent.parent
MARIADB = ROOT / "scripts" / "mariadb.sh"
GALERA = ROOT / "scripts" / "galera.sh"
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
# A fast hasher for the benchmark's own server only: the slow default would make seeding sites slow and
# is cached after the first check of each site anyway (SYNC_AUTH_CACHE_SECONDS).
BENCH_HASHERS = "django.contrib.auth.hashers.MD5PasswordHasher"


def start_mariadb() -> bool:
    """Start the project's throwaway MariaDB; True when this call started it (so we stop it later)."""
    out = subprocess.run([str(MARIADB), "start"], capture_output=True, text=True, check=True).stdout
    return "already running" not in out


def stop_mariadb() -> None:
    subprocess.run([str(MARIADB), "stop"], check=False)


def start_galera() -> tuple[bool, str]:
    """Start the throwaway 3-node Galera cluster if it is not running; (whether this call started it,
    node 1's URL). Everything the benchmark does goes through node 1: the one-writer topology of
    docs/scaling.md, with every write certified and replicated to the other two nodes."""
    status = subprocess.run([str(GALERA), "status"], capture_output=True, text=True, check=True).stdout
    started = "down" in status
    if started:
        subprocess.run([str(GALERA), "start"], check=True)
    url = subprocess.run([str(GALERA), "url", "1"], capture_output=True, text=True, check=True).stdout
    return started, url.strip()


def stop_galera() -> None:
    subprocess.run([str(GALERA), "stop"], check=False)


def base_url() -> str:
    """DATABASE_URL if set (CI), else the project's throwaway MariaDB."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("mysql"):
        return url
    return subprocess.run([str(MARIADB), "url"], capture_output=True, text=True, check=True).stdout.strip()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@dataclass(frozen=True)
class DbParams:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> DbParams:
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "",
            password=parts.password or "",
            database=parts.path.lstrip("/"),
        )

    def connect(self, database: bool = True) -> MySQLdb.Connection:
        conn = MySQLdb.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            passwd=self.password,
            db=self.database if database else "",
            charset="utf8mb4",
            autocommit=True,
        )
        return conn


def recreate_database(db: DbParams) -> None:
    conn = db.connect(database=False)
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{db.database}`")
        cursor.execute(f"CREATE DATABASE `{db.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    conn.close()


def drop_database(db: DbParams) -> None:
    conn = db.connect(database=False)
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{db.database}`")
    conn.close()


def server_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DEBUG="False",
        # The server refuses the public development key when DEBUG is off.
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48),
        PASSWORD_HASHERS=BENCH_HASHERS,
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="syncserver.settings",
    )
    return env


def migrate(url: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=server_env(url), check=True
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The server under test: gunicorn with 2 sync workers on loopback."""

    def __init__(self, url: str, log_path: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "syncserver.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "900",
            ],
            cwd=ROOT,
            env=server_env(url),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.workers = workers
        self._wait_ready()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as response:
                    if response.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /health within 60 s; see {self.log.name}")

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
            return [int(p) for p in text.split()]
        except OSError:
            found = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(stat.parent.name))
                except (OSError, ValueError, IndexError):
                    continue
            return found

    def pids(self) -> list[int]:
        return [self.process.pid, *self.worker_pids()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssMeter:
    """Server memory: sum over gunicorn's master and workers of VmRSS now and of VmHWM (peak).

    Before each workload the peaks are reset (`echo 5 > /proc/PID/clear_refs`), so VmHWM afterwards is
    that workload's peak.
    """

    def __init__(self, server: Gunicorn) -> None:
        self.server = server

    def current_mb(self) -> float:
        return sum(_status_kb(p, "VmRSS") for p in self.server.pids()) / 1024

    def reset(self) -> float:
        for pid in self.server.pids():
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        return self.current_mb()

    def peak_mb(self) -> float:
        return sum(_status_kb(p, "VmHWM") for p in self.server.pids()) / 1024


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "False"
    os.environ.setdefault("PASSWORD_HASHERS", "django.contrib.auth.hashers.MD5PasswordHasher")
    os.environ["DJANGO_SETTINGS_MODULE"] = "syncserver.settings"
    import django

    django.setup()
