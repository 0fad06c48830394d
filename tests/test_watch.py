"""The main job as staff meet it: the real `tousu watch` in a subprocess, files dropped into inbox/
(some copied slowly as over a share), concurrency with CLI runs, and kill -9 mid-batch."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import INTAKE_VALUES

from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.watcher import Settler

pytestmark = pytest.mark.slow                  # runs the installed `tousu` as a subprocess

TOUSU = str(Path(sys.executable).parent / "tousu")
ENV = {**os.environ, "TOUSU_NOW": "2026-11-21T09:00:00"}


def intakes(folder: Path, count: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"138{i:08d}", target=f"对象{i}"),
                  folder / f"受理-{i:03d}.xlsx") for i in range(start, start + count)]


def start_watch(ws: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([TOUSU, "watch", "-w", str(ws), "--settle", "0.4", *extra], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def slow_copy(source: Path, target: Path, chunk: int = 1024, pause: float = 0.05) -> None:
    """As over a share: the file appears and grows chunk by chunk."""
    data = source.read_bytes()
    with open(target, "wb") as fh:
        for offset in range(0, len(data), chunk):
            fh.write(data[offset:offset + chunk])
            fh.flush()
            time.sleep(pause)


def archived_numbers(ws: Path) -> list[str]:
    return sorted(p.name.split("-")[0] for p in (ws / "archive").glob("[0-9]*/*/*/*-受理记录单-v1.xlsx"))


def test_settler_waits_for_a_file_to_stop_growing(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04partial")
    settler = Settler(settle=1.0)
    assert settler.observe([path], 100.0) == [] and settler.observe([path], 100.5) == []
    path.write_bytes(b"PK\x03\x04partial-more")
    assert settler.observe([path], 101.2) == []                  # grew: the clock starts again
    assert settler.observe([path], 102.0) == []                  # quiet 0.8 s only
    assert settler.observe([path], 102.3) == []                  # quiet but not a whole zip yet
    assert settler.observe([path], 104.3) == [path]              # still broken 2 s later: take it (refuse)


def test_watch_drop_a_dozen_forms_garbage_and_a_lock_file(tmp_path):
    ws = tmp_path / "ws"
    forms = intakes(tmp_path / "forms", 12)
    watcher = start_watch(ws)
    try:
        assert wait_until(lambda: (ws / "inbox").is_dir())
        started = time.monotonic()
        for i, form in enumerate(forms):
            if i % 3 == 0:
                slow_copy(form, ws / "inbox" / form.name)
            else:
                (ws / "inbox" / form.name).write_bytes(form.read_bytes())
        (ws / "inbox" / "乱码.xlsx").write_bytes(os.urandom(3000))
        (ws / "inbox" / "~$受理-000.xlsx").write_bytes(b"owner lock")
        assert wait_until(lambda: len(archived_numbers(ws)) == 12 and (ws / "rejected" / "乱码.xlsx").exists())
        elapsed = time.monotonic() - started
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert archived_numbers(ws) == [f"TS202611{i:04d}" for i in range(1, 13)]
    assert sorted(p.name for p in (ws / "inbox").iterdir()) == ["~$受理-000.xlsx"]
    assert "不完整或已损坏" in (ws / "rejected" / "乱码.xlsx.错误说明.txt").read_text(encoding="utf-8") or \
        "不是有效的" in (ws / "rejected" / "乱码.xlsx.错误说明.txt").read_text(encoding="utf-8")
    receipt, = (ws / "receipts").glob("受理-005.xlsx.TS202611*.回执.txt")
    assert receipt.read_text(encoding="utf-8").count("投诉编号：TS202611") == 1
    ledger = openpyxl.load_workbook(ws / "ledger" / "投诉管理台帐-2026.xlsx")["11月"]
    assert sorted(row[1].value for row in ledger.iter_rows(min_row=3)) == archived_numbers(ws)
    lines = out.strip().splitlines()                             # one line per file, between start and stop
    assert len(lines) == 15 and "开始监视" in lines[0] and "停止监视" in lines[-1]
    assert (ws / ".tousu" / "watch.log").read_text(encoding="utf-8").splitlines() == lines
    assert elapsed < 30


def test_watcher_and_three_cli_runs_at_once_never_issue_a_number_twice(tmp_path):
    ws = tmp_path / "ws"
    dropped = intakes(tmp_path / "drop", 80)
    batches = [intakes(tmp_path / f"cli{k}", 40, 100 + 40 * k) for k in range(3)]
    watcher = start_watch(ws)
    try:
        assert wait_until(lambda: (ws / "inbox").is_dir())
        runs = [subprocess.Popen([TOUSU, "process", "-w", str(ws), "--json", *map(str, batch)], env=ENV,
                                 stdout=subprocess.PIPE, text=True) for batch in batches]
        for form in dropped:
            os.replace(form, ws / "inbox" / form.name)
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert wait_until(lambda: len(archived_numbers(ws)) == 200, timeout=120)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.communicate(timeout=30)
    cli_numbers = [json.loads(line)["number"] for out in outputs for line in out.splitlines()]
    numbers = archived_numbers(ws)
    assert len(cli_numbers) == 120 and len(set(numbers)) == 200
    assert numbers == [f"TS202611{i:04d}" for i in range(1, 201)]
    assert list((ws / "inbox").iterdir()) == [] and list((ws / "rejected").iterdir()) == []


def test_kill_9_mid_batch_then_restart_loses_nothing(tmp_path):
    ws = tmp_path / "ws"
    forms = intakes(tmp_path / "drop", 60)
    (ws / "inbox").mkdir(parents=True)
    for form in forms:
        os.replace(form, ws / "inbox" / form.name)
    watcher = start_watch(ws, "--poll", "0.3")                     # the polling observer of network shares
    assert wait_until(lambda: len(archived_numbers(ws)) >= 10)
    watcher.kill()                                                # kill -9 in the middle of the batch
    watcher.wait()
    watcher = start_watch(ws, "--once")
    watcher.communicate(timeout=120)
    assert watcher.returncode == 0
    numbers = archived_numbers(ws)
    assert numbers == [f"TS202611{i:04d}" for i in range(1, 61)]
    assert list((ws / "inbox").iterdir()) == []
    assert list((ws / "archive").rglob("重复提交/*")) == []      # the file in hand was finished, not copied


def test_status_shows_pending_files_counts_and_recent_refusals(tmp_path):
    ws = tmp_path / "ws"
    (ws / "inbox").mkdir(parents=True)
    (ws / "inbox" / "旧表.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    for form in intakes(tmp_path / "drop", 2):
        os.replace(form, ws / "inbox" / form.name)
    done = subprocess.run([TOUSU, "status", "-w", str(ws), "--json"], env=ENV, capture_output=True, text=True,
                          timeout=60)
    assert sorted(json.loads(done.stdout)["pending"]) == ["受理-000.xlsx", "受理-001.xlsx", "旧表.xls"]
    subprocess.run([TOUSU, "watch", "-w", str(ws), "--once", "--settle", "0.2"], env=ENV, capture_output=True,
                   timeout=60, check=True)
    info = json.loads(subprocess.run([TOUSU, "status", "-w", str(ws), "--json"], env=ENV, capture_output=True,
                                     text=True, timeout=60).stdout)
    assert info["pending"] == [] and info["today"] == {"accepted": 2, "refused": 1}
    assert info["recent_refusals"][0]["file"] == "旧表.xls" and "另存为 .xlsx" in info["recent_refusals"][0]["problem"]


def test_watch_json_prints_one_receipt_per_file_and_the_journal_can_live_elsewhere(tmp_path):
    ws, journal = tmp_path / "ws", tmp_path / "local-disk" / "journal.sqlite3"
    (ws / "inbox").mkdir(parents=True)
    for form in intakes(tmp_path / "drop", 2):
        os.replace(form, ws / "inbox" / form.name)
    done = subprocess.run([TOUSU, "watch", "-w", str(ws), "--once", "--settle", "0.2", "--json"],
                          env={**ENV, "TOUSU_JOURNAL": str(journal)}, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(l["status"], l["number"]) for l in lines] == [("accepted", "TS2026110001"), ("accepted", "TS2026110002")]
    assert journal.exists() and not (ws / ".tousu" / "journal.sqlite3").exists()


def test_a_file_written_while_the_loop_was_busy_settles_from_its_mtime_after_two_looks(tmp_path):
    path = tmp_path / "a.xls"
    settler = Settler(settle=1.0)
    assert settler.observe([], 100.0, wall=5000.0) == []             # the inbox was empty at 100.0
    path.write_bytes(b"x" * 100)
    os.utime(path, (5000.2, 5000.2))                                  # written at 100.2
    assert settler.observe([path], 100.9, wall=5000.9) == []          # first look: dated 100.2, not taken yet
    assert settler.observe([path], 101.0, wall=5001.0) == []          # quiet 0.8 s
    assert settler.observe([path], 101.25, wall=5001.25) == [path]    # quiet 1.05 s: taken
    later = Settler(settle=1.0)
    later.observe([], 100.0, wall=5000.0)
    os.utime(path, (4000.0, 4000.0))                                  # an mtime set back by a copy
    assert later.observe([path], 100.9, wall=5000.9) == []
    assert later.observe([path], 101.5, wall=5001.5) == []            # counts from its first look, 100.9
    assert later.observe([path], 101.95, wall=5001.95) == [path]
