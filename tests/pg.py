"""The tests' PostgreSQL: one throw-away server per test session (toolkit.journal_pgserver: the installed
initdb/pg_ctl, a Unix socket in a temporary folder, run as `postgres` under root), a new database for
each test that asks for one. Without an installed PostgreSQL those tests are skipped with the reason."""
import atexit
import os

import pytest

from toolkit.journal_pgserver import ScratchServer, binaries

NOT_INSTALLED = ("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
                 "`apt-get install postgresql` or see .ci/run")
_server: list[ScratchServer] = []


def installed() -> None:
    """Skip the test without an installed PostgreSQL; under CI (CI=true: .ci/run installs it) fail it."""
    if binaries() is None:
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(NOT_INSTALLED)


def own_server() -> ScratchServer:
    """A started server of the test's own (to stop and start); the caller destroys it."""
    installed()
    return ScratchServer().start()


def server() -> ScratchServer:
    """The session's server, started on first use and removed at exit."""
    installed()
    if not _server:
        _server.append(ScratchServer().start())
        atexit.register(_server[0].destroy)
    return _server[0]


def database() -> str:
    """The URL of a new, empty database."""
    return server().create_database()
