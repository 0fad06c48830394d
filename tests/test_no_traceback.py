"""Issue 11 item 5: every command run against a damaged workspace — a garbled journal, a full disk, an
archive that cannot be written, a journal the database refuses to write — ends with a Chinese message
and an exit code of the README, never a Python traceback."""
import builtins
import contextlib
import errno
import sqlite3
import subprocess
from contextlib import contextmanager
from datetime import datetime

import pytest
from click.testing import CliRunner
from conftest import INTAKE_VALUES
from test_watch import ENV, TOUSU

from toolkit.cli import main
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.journal import Journal

COMMANDS = [
    ["process", "{form}"], ["check", "{form}"], ["status"], ["verify"], ["ledger", "rebuild"],
    ["score", "--month", "2026-11"], ["report", "--month", "2026-11"], ["overdue", "--as-of", "2026-11-21"],
    ["overdue", "--as-of", "2026-11-21", "--notices"], ["watch", "--once", "--settle", "0"], ["demo"],
    ["due", "--channel", "客服热线", "--severity", "非重大", "--received", "2026-11-20 15:30"], ["init", "{ws}"],
]


def _disk_full(monkeypatch, workspace):
    real_open = builtins.open

    def full(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and str(workspace) in str(file):
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", full)


def _archive_read_only(monkeypatch, workspace):
    real_open = builtins.open

    def denied(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and str(workspace / "archive") in str(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr(builtins, "open", denied)


def _database_full(monkeypatch, workspace):
    @contextmanager
    def refused(self):
        raise sqlite3.OperationalError("database or disk is full")
        yield
    monkeypatch.setattr(Journal, "transaction", refused)


def _garbled_and_locked_down(monkeypatch, workspace):
    (workspace / ".tousu" / "journal.sqlite3").write_bytes(b"garbage" * 500)
    _archive_read_only(monkeypatch, workspace)


FAULTS = {"disk full": _disk_full, "archive read-only": _archive_read_only, "database full": _database_full,
          "garbled journal, archive read-only": _garbled_and_locked_down}


@pytest.fixture
def damaged(tmp_path, monkeypatch):
    """A workspace with one accepted case, then the fault applied."""
    monkeypatch.setenv("TOUSU_NOW", "2026-11-21T09:00:00")
    workspace = tmp_path / "ws"
    form = build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx")
    result = CliRunner().invoke(main, ["process", str(form), "-w", str(workspace)])
    assert result.exit_code == 0, result.output

    def apply(name):
        FAULTS[name](monkeypatch, workspace)
        return workspace, build(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002"),
                                tmp_path / "second.xlsx")
    return apply


@pytest.mark.parametrize("fault", list(FAULTS))
def test_no_command_prints_a_traceback_in_a_damaged_workspace(fault, damaged):
    workspace, form = damaged(fault)
    for command in COMMANDS:
        argv = [part.format(form=form, ws=workspace) for part in command]
        if command[0] != "init":
            argv += ["-w", str(workspace)]
        result = CliRunner().invoke(main, argv)
        shown = f"{fault}: tousu {' '.join(command)} -> {result.exit_code}\n{result.output}"
        assert result.exception is None or isinstance(result.exception, SystemExit), shown + repr(result.exception)
        assert "Traceback" not in result.output, shown
        assert result.exit_code in (0, 1, 2), shown
        if result.exit_code == 2 and command[0] not in ("due",):
            assert any(word in result.output for word in ("错误", "无法", "请")), shown


@pytest.mark.slow
def test_the_installed_command_shows_no_traceback_for_a_garbled_journal(tmp_path):
    workspace = tmp_path / "ws"
    form = build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx")
    subprocess.run([TOUSU, "process", str(form), "-w", str(workspace)], env=ENV, capture_output=True, timeout=60,
                   check=True)
    (workspace / ".tousu" / "journal.sqlite3").write_bytes(b"\0garbage" * 300)
    for command in (["status"], ["score", "--month", "2026-11"], ["process", str(form)], ["verify"]):
        done = subprocess.run([TOUSU, *command, "-w", str(workspace)], env=ENV, capture_output=True, text=True,
                              timeout=60)
        assert "Traceback" not in done.stdout + done.stderr, command
        assert done.returncode in (0, 1), (command, done.stderr)    # the journal was rebuilt from the archive
    assert datetime.now() and list((workspace / ".tousu").glob("journal.sqlite3.damaged-*"))


@pytest.mark.slow
def test_a_really_full_disk_gives_messages_never_a_traceback(tmp_path):
    """Found in review: on a real full disk, clean-up and logging printed tracebacks. A 3 MB tmpfs is filled."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True,
                             timeout=30)
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root: " + mounted.stderr.decode(errors="replace").strip())
    try:
        workspace = disk / "ws"
        first = build(INTAKE, INTAKE_VALUES, tmp_path / "a.xlsx")
        second = build(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002"), tmp_path / "b.xlsx")
        subprocess.run([TOUSU, "process", str(first), "-w", str(workspace)], env=ENV, capture_output=True,
                       timeout=60, check=True)
        with open(disk / "filler", "wb") as fh, contextlib.suppress(OSError):
            while True:
                fh.write(b"\0" * 65536)
        (workspace / "inbox" / "c.xlsx").write_bytes(b"")        # a name only: the disk has no room for data
        for command in (["process", str(second)], ["report", "--month", "2026-11"], ["score", "--month", "2026-11"],
                        ["ledger", "rebuild"], ["watch", "--once", "--settle", "0"], ["status"], ["verify"]):
            done = subprocess.run([TOUSU, *command, "-w", str(workspace)], env=ENV, capture_output=True, text=True,
                                  timeout=120)
            assert "Traceback" not in done.stdout + done.stderr, (command, done.stderr)
            assert done.returncode in (0, 1, 2), (command, done.returncode)
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True, timeout=30)
