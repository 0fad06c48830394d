"""A throw-away PostgreSQL server for the tests, the group torture run and the group benchmark: the
installed PostgreSQL's initdb into a temporary folder, started by pg_ctl on a Unix socket in that folder
(no TCP port is opened), stopped and deleted at the end. PostgreSQL refuses to run as root, so under
root the server runs as the `postgres` account (created as a system account when missing).

Written here rather than taken from pytest-postgresql: the torture run and `python -m
toolkit.bench_group` need the same server outside pytest, and the root case needs the account switch."""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path

import psycopg

SERVER_USER = "postgres"
SETTINGS = ("-c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200")


def binaries() -> Path | None:
    """The folder of the installed PostgreSQL's initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _account() -> pwd.struct_passwd | None:
    """Who runs the server: None for the current user, the `postgres` account under root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
                       check=True, timeout=60)
        return pwd.getpwnam(SERVER_USER)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ScratchServer:
    def __init__(self):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL (initdb, pg_ctl) is not installed")
        self.account = _account()
        self.root = Path(tempfile.mkdtemp(prefix="tousu-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = _free_port()
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        self._as_server([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                         "-E", "UTF8", "--no-locale", "--no-sync"])
        self.databases = 0

    def _as_server(self, command: list[str]) -> None:
        who = {} if self.account is None else {"user": self.account.pw_uid, "group": self.account.pw_gid,
                                                "extra_groups": []}
        subprocess.run(command, check=True, timeout=120, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.root, **who)

    def start(self) -> "ScratchServer":
        self._as_server([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "-o", f"-k {self.root} -p {self.port} {SETTINGS}", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        self._as_server([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.root}&port={self.port}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        self.databases += 1
        name = name or f"t{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        with suppress(subprocess.SubprocessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
