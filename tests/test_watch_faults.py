"""Issues 10 and 11 at the watcher: a rebuild while it runs, a file re-saved while it waits, links and
special files, odd names, files that cannot be read or moved, a calendar year nobody knows, ledgers
left stale by a crash, receipts, start and stop. Process-level faults run the real `tousu` with a
time limit, so a hang fails the test instead of stalling the suite."""
import json
import logging
import logging.handlers
import os
import signal
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import INTAKE_VALUES
from test_watch import ENV, TOUSU, archived_numbers, intakes, start_watch, wait_until

from toolkit import batch
from toolkit import process as process_module
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.inbox import pending
from toolkit.watcher import Wake, Watcher, configure_logging, log
from toolkit.workspace import Workspace

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))


def receipts_of(ws: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ws / "receipts").glob("*.回执.json"))]


@pytest.mark.slow
def test_rebuild_while_the_watcher_and_cli_runs_work_never_issues_a_number_twice(tmp_path):
    ws = tmp_path / "ws"
    dropped = intakes(tmp_path / "drop", 60)
    batches = [intakes(tmp_path / f"cli{k}", 20, 100 + 20 * k) for k in range(2)]
    watcher = start_watch(ws)
    try:
        assert wait_until(lambda: (ws / "inbox").is_dir())
        runs = [subprocess.Popen([TOUSU, "process", "-w", str(ws), "--json", *map(str, b)], env=ENV,
                                 stdout=subprocess.PIPE, text=True) for b in batches]
        rebuilds = []
        for i, form in enumerate(dropped):
            os.replace(form, ws / "inbox" / form.name)
            if i in (15, 40):
                rebuilds.append(subprocess.run([TOUSU, "ledger", "rebuild", "-w", str(ws), "--json"], env=ENV,
                                               capture_output=True, text=True, timeout=120))
            time.sleep(0.02)
        for run in runs:
            run.communicate(timeout=120)
        assert wait_until(lambda: len(archived_numbers(ws)) == 100, timeout=120)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.communicate(timeout=30)
    assert all(r.returncode == 0 for r in rebuilds), [r.stderr for r in rebuilds]
    numbers = archived_numbers(ws)
    assert numbers == [f"TS202611{i:04d}" for i in range(1, 101)]
    sidecars = [json.loads(p.read_text(encoding="utf-8")) for p in (ws / "archive").rglob("*.meta.json")]
    assert sorted(m["original_name"] for m in sidecars) == sorted(
        [p.name for p in dropped] + [p.name for b in batches for p in b])
    done = subprocess.run([TOUSU, "verify", "-w", str(ws), "--json"], env=ENV, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout


def test_a_file_resaved_while_the_watcher_waits_is_a_new_submission(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    (tmp_path / "a").mkdir()
    first = build(INTAKE, dict(INTAKE_VALUES, customer_name="甲"), tmp_path / "a" / "受理.xlsx")
    second = build(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13911112222"), tmp_path / "second.xlsx")
    (ws.inbox / "受理.xlsx").write_bytes(first.read_bytes())
    other = Workspace.open(ws.root)
    watcher = Watcher(ws, CLOCK, settle=0)
    with other.locked():                                 # a CLI run holds the workspace
        thread = threading.Thread(target=watcher.step)
        thread.start()
        assert wait_until(lambda: not (ws.inbox / "受理.xlsx").exists(), timeout=10)   # claimed first
        (ws.inbox / "受理.xlsx").write_bytes(second.read_bytes())                     # the clerk saves again
        time.sleep(0.3)
    thread.join(timeout=60)
    assert watcher.run(once=True) == 0
    names = sorted(json.loads(p.read_text(encoding="utf-8"))["fields"]["customer_name"]
                   for p in ws.archive.rglob("*.meta.json"))
    assert names == ["乙", "甲"] and pending(ws) == []


@pytest.mark.slow
def test_links_and_special_files_are_never_followed_nor_moved(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    secret = tmp_path / "outside.xlsx"
    build(INTAKE, dict(INTAKE_VALUES, customer_name="不该读到"), secret)
    (ws.inbox / "链接.xlsx").symlink_to(secret)
    os.mkfifo(ws.inbox / "管道.xlsx")
    watcher = Watcher(ws, CLOCK, settle=0)
    assert watcher.run(once=True) == 0
    assert watcher.run(once=True) == 0                   # a second pass answers nothing twice
    assert (ws.inbox / "链接.xlsx").is_symlink() and (ws.inbox / "管道.xlsx").exists()
    assert list(ws.rejected.iterdir()) == [] and list(ws.archive.rglob("*.meta.json")) == []
    answers = sorted(r["file"] for r in receipts_of(ws.root))
    assert answers == ["管道.xlsx", "链接.xlsx"]
    status = subprocess.run([TOUSU, "status", "-w", str(ws.root), "--json"], env=ENV, capture_output=True,
                            text=True, timeout=60)
    held = {h["file"]: h["reason"] for h in json.loads(status.stdout)["held"]}
    assert "符号链接" in held["链接.xlsx"] and "特殊文件" in held["管道.xlsx"]


def test_two_clerks_dropping_the_same_name_get_one_receipt_each(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    watcher = Watcher(ws, CLOCK, settle=0)
    for i in range(2):
        source = build(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}"),
                       tmp_path / f"{i}.xlsx")
        (ws.inbox / "附件1 客户投诉受理记录单.xlsx").write_bytes(source.read_bytes())
        assert watcher.run(once=True) == 0
    assert sorted(r["number"] for r in receipts_of(ws.root)) == ["TS2026110001", "TS2026110002"]
    texts = sorted(p.name for p in ws.receipts.glob("*.回执.txt"))
    assert len(texts) == 2 and all(t.startswith("附件1 客户投诉受理记录单.xlsx.TS202611000") for t in texts)


def test_the_receipt_is_written_before_the_input_is_removed_and_a_crash_is_finished_on_restart(tmp_path,
                                                                                               monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    build(INTAKE, INTAKE_VALUES, ws.inbox / "受理.xlsx")
    real_unlink = Path.unlink

    def killed(self, *args, **kwargs):
        if ".tousu-claims" in str(self):
            raise KeyboardInterrupt("kill -9")
        return real_unlink(self, *args, **kwargs)
    monkeypatch.setattr(Path, "unlink", killed)
    with pytest.raises(KeyboardInterrupt):
        Watcher(ws, CLOCK, settle=0).run(once=True)
    monkeypatch.undo()
    assert [r["number"] for r in receipts_of(ws.root)] == ["TS2026110001"]      # the clerk has the number
    assert Watcher(Workspace.open(ws.root), CLOCK, settle=0).run(once=True) == 0
    assert [(r["status"], r["number"]) for r in receipts_of(ws.root)] == [("accepted", "TS2026110001")]
    assert list(ws.claims.iterdir()) == [] and list(ws.archive.rglob("重复提交/*")) == []


def test_a_ledger_left_stale_by_a_crash_is_repaired_by_the_next_pass(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    build(INTAKE, INTAKE_VALUES, ws.inbox / "a.xlsx")

    def crash(*args):
        (ws.ledger / ".投诉管理台帐-2026.xlsx.99.writing").write_bytes(b"half")
        raise KeyboardInterrupt("killed while writing the ledger")
    monkeypatch.setattr(batch, "write_ledger", crash)
    with pytest.raises(KeyboardInterrupt):
        Watcher(ws, CLOCK, settle=0).run(once=True)
    monkeypatch.undo()
    assert not (ws.ledger / "投诉管理台帐-2026.xlsx").exists()
    assert batch.stale_years(Workspace.open(ws.root)) == {2026}
    assert Watcher(Workspace.open(ws.root), CLOCK, settle=0).run(once=True) == 0
    assert (ws.ledger / "投诉管理台帐-2026.xlsx").exists() and list(ws.ledger.glob(".*")) == []
    assert batch.stale_years(Workspace.open(ws.root)) == set()


def test_a_deleted_ledger_is_written_again(tousu, form, workspace):
    tousu("process", form(INTAKE, INTAKE_VALUES))
    (workspace / "ledger" / "投诉管理台帐-2026.xlsx").unlink()
    code, lines, _ = tousu("status")
    assert lines[0]["ledgers_pending"] == [2026]
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002")))
    assert (workspace / "ledger" / "投诉管理台帐-2026.xlsx").exists()


# ------------------------------------------------------------------ issue 11
@pytest.mark.slow
def test_a_name_that_is_not_utf8_or_holds_a_newline_is_filed_and_logged_on_one_line(tmp_path):
    ws = tmp_path / "ws"
    (ws / "inbox").mkdir(parents=True)
    data = build(INTAKE, INTAKE_VALUES, tmp_path / "src.xlsx").read_bytes()
    gbk = os.fsencode(ws / "inbox") + b"/" + "受理记录单".encode("gbk") + b".xlsx"
    with open(gbk, "wb") as fh:
        fh.write(data)
    (ws / "inbox" / "伪造\n2026-11-21 09:00:00 x -> accepted.xlsx").write_bytes(b"junk")
    done = subprocess.run([TOUSU, "watch", "-w", str(ws), "--once", "--settle", "0.2"], env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    log_lines = (ws / ".tousu" / "watch.log").read_text(encoding="utf-8").splitlines()
    assert len(log_lines) == 4                           # start, the two files, stop: nothing forged
    assert any("受理记录单.xlsx -> accepted TS2026110001" in line for line in log_lines)
    assert os.listdir(ws / "inbox") == []
    assert [r["file"] for r in receipts_of(ws) if r["status"] == "accepted"] == ["受理记录单.xlsx"]


def test_a_name_of_255_bytes_is_refused_with_a_shortened_explanation(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    long_name = "很长的文件名" * 13 + "a" * 16 + ".xlsx"
    assert len(long_name.encode("utf-8")) == 255
    (ws.inbox / long_name).write_bytes(b"not an office file")
    assert Watcher(ws, CLOCK, settle=0).run(once=True) == 0
    explanations = list(ws.rejected.glob("*.错误说明.txt"))
    assert len(explanations) == 1 and all(len(p.name.encode()) <= 255 for p in ws.rejected.iterdir())
    assert pending(ws) == []


def test_an_unreadable_file_is_retried_then_refused_and_the_others_keep_flowing(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    for i in range(3):
        build(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}"), ws.inbox / f"{i}.xlsx")
    real = process_module.read_submitted
    tries = []

    def unreadable(path):
        if path.name == "1.xlsx":
            tries.append(path)
            raise process_module.FileUnreadable("无法读取文件「1.xlsx」：Permission denied。")
        return real(path)
    monkeypatch.setattr(process_module, "read_submitted", unreadable)
    monkeypatch.setattr("toolkit.watcher.RETRY_DELAYS", (0.05, 0.05))
    started = time.monotonic()
    assert Watcher(ws, CLOCK, settle=0).run(once=True) == 0          # --once ends
    assert time.monotonic() - started < 30 and len(tries) == 3
    assert sorted(archived_numbers(ws.root)) == ["TS2026110001", "TS2026110002"]
    explanation, = ws.rejected.glob("*.错误说明.txt")
    assert "1.xlsx" in explanation.name and "Permission denied" in explanation.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_file_that_cannot_be_moved_is_logged_once_and_shown_by_status(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    build(INTAKE, INTAKE_VALUES, ws.inbox / "占用中.xlsx")
    build(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002"), ws.inbox / "ok.xlsx")
    real = os.rename

    def held_open(source, target):
        if "占用中" in str(source):
            raise PermissionError(13, "The process cannot access the file", str(source))
        return real(source, target)
    monkeypatch.setattr("toolkit.inbox.os.rename", held_open)
    monkeypatch.setattr("toolkit.watcher.RETRY_DELAYS", (0.05, 0.05))
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log.addHandler(handler)
    try:
        assert Watcher(ws, CLOCK, settle=0).run(once=True) == 0
    finally:
        log.removeHandler(handler)
    assert archived_numbers(ws.root) == ["TS2026110001"]
    assert len([r for r in records if "占用中" in r.getMessage()]) == 1
    monkeypatch.undo()
    status = subprocess.run([TOUSU, "status", "-w", str(ws.root), "--json"], env=ENV, capture_output=True,
                            text=True, timeout=60)
    assert [h["file"] for h in json.loads(status.stdout)["held"]] == ["占用中.xlsx"]


@pytest.mark.slow
def test_a_year_the_calendar_does_not_know_gives_one_outcome_and_no_spinning(tmp_path):
    ws = tmp_path / "ws"
    (ws / "inbox").mkdir(parents=True)
    (ws / "policy.toml").write_text('[deadlines]\ncalendar = "working"\n', encoding="utf-8")
    env = {**ENV, "TOUSU_NOW": "2099-12-31T09:00:00"}
    build(INTAKE, dict(INTAKE_VALUES, received_at=datetime(2099, 12, 30, 9)), ws / "inbox" / "年底.xlsx")
    watcher = subprocess.Popen([TOUSU, "watch", "-w", str(ws), "--settle", "0.2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: (ws / "rejected" / "年底.xlsx").exists(), timeout=30)
        cpu_before = _cpu_seconds(watcher.pid)
        time.sleep(3)
        cpu = _cpu_seconds(watcher.pid) - cpu_before
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=30)
    assert cpu < 0.5, f"the watcher spun: {cpu:.2f} s of CPU in 3 s"
    assert len(out.strip().splitlines()) == 3            # start, the file, stop
    explanation = (ws / "rejected" / "年底.xlsx.错误说明.txt").read_text(encoding="utf-8")
    assert "2099" in explanation and "[calendar]" in explanation and "years" in explanation


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_watchers_own_reads_do_not_wake_it(tmp_path):
    from watchdog.events import (
        FileClosedNoWriteEvent,
        FileModifiedEvent,
        FileOpenedEvent,
    )
    woken = threading.Event()
    handler = Wake(woken)
    for event in (FileOpenedEvent("/x.xlsx"), FileClosedNoWriteEvent("/x.xlsx")):
        handler.dispatch(event)
    assert not woken.is_set()
    handler.dispatch(FileModifiedEvent("/x.xlsx"))
    assert woken.is_set()


@pytest.mark.slow
def test_sigterm_in_the_first_second_exits_0(tmp_path):
    for delay in (0.2, 0.5, 0.9):              # the interpreter itself needs ~0.05 s before any handler exists
        watcher = subprocess.Popen([TOUSU, "watch", "-w", str(tmp_path / "ws")], env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=30) == 0, f"SIGTERM after {delay} s"


def test_the_watch_log_rotates(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    configure_logging(ws, console=False)
    try:
        handler = next(h for h in log.handlers if isinstance(h, logging.handlers.RotatingFileHandler))
        assert handler.maxBytes == 5 * 1024 * 1024 and handler.backupCount == 5
    finally:
        for h in log.handlers[:]:
            log.removeHandler(h)
            h.close()


# ------------------------------------------------------------------ found in review
def test_a_ledger_that_cannot_be_written_never_hides_the_number(tousu, form, workspace, monkeypatch):
    def read_only(ws, year, now):
        raise PermissionError(30, "Read-only file system", str(ws.ledger / f"投诉管理台帐-{year}.xlsx"))
    monkeypatch.setattr(batch, "write_ledger", read_only)
    code, lines, output = tousu("process", form(INTAKE, INTAKE_VALUES))
    assert code == 0 and lines[0]["number"] == "TS2026110001"
    assert "2026 年台帐暂时无法更新" in output and "Traceback" not in output
    assert batch.stale_years(Workspace.open(workspace)) == {2026}


def test_watch_once_ends_while_a_file_keeps_changing(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    growing = ws.inbox / "还在复制.xlsx"
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            with open(growing, "ab") as fh:
                fh.write(b"x")
            time.sleep(0.05)
    writer = threading.Thread(target=keep_writing)
    writer.start()
    monkeypatch.setattr("toolkit.watcher.ONCE_LIMIT", 1.0)
    try:
        started = time.monotonic()
        assert Watcher(ws, CLOCK, settle=0.3).run(once=True) == 0
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        writer.join()
    assert growing.exists()                              # left for the next run, never refused half-written


def test_a_stray_case_folder_at_the_next_number_is_skipped_not_blamed_on_the_clerk(tousu, form, workspace):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="甲", phone="13900000001")))
    stray = workspace / "archive/2026/11/TS2026110002"
    stray.mkdir(parents=True)
    (stray / "TS2026110002-受理记录单-v1.xlsx").write_bytes(b"put here by hand")
    code, lines, _ = tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002")))
    assert (code, lines[0]["status"], lines[0]["number"]) == (0, "accepted", "TS2026110003")
    assert (stray / "TS2026110002-受理记录单-v1.xlsx").read_bytes() == b"put here by hand"
    code, lines, _ = tousu("verify")
    assert code == 1 and any("TS2026110002" in f["path"] for f in lines[0]["findings"])


def test_a_kill_between_the_commit_and_the_pending_mark_is_caught_at_the_next_start(tousu, form, workspace,
                                                                                   monkeypatch):
    tousu("process", form(INTAKE, INTAKE_VALUES))
    monkeypatch.setattr(batch, "mark_pending", lambda ws, years: None)      # the kill: no year marked
    monkeypatch.setattr(batch, "refresh_ledgers", lambda ws, years, now: [])
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13900000002")))
    monkeypatch.undo()
    code, lines, _ = tousu("status")
    assert lines[0]["ledgers_pending"] == [2026]
    assert Watcher(Workspace.open(workspace), CLOCK, settle=0).run(once=True) == 0
    import openpyxl
    sheet = openpyxl.load_workbook(workspace / "ledger" / "投诉管理台帐-2026.xlsx")["11月"]
    assert sorted(r[1].value for r in sheet.iter_rows(min_row=3) if r[1].value) == ["TS2026110001", "TS2026110002"]
