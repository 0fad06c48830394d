"""Numbers are issued once under concurrency, and a crash between the steps of filing loses nothing."""
import multiprocessing
from datetime import datetime
from pathlib import Path

import pytest
from conftest import INTAKE_VALUES, archived_files

from toolkit import archive
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.journal import Journal
from toolkit.process import process
from toolkit.workspace import Workspace

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))


def _worker(args):
    root, paths = args
    ws = Workspace.open(Path(root))
    return [process(Path(p), ws, CLOCK, "worker").number for p in paths]


def test_four_processes_never_issue_a_number_twice(tmp_path):
    forms = [build(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1380000{i:04d}"),
                   tmp_path / f"f{i}.xlsx") for i in range(32)]
    batches = [(str(tmp_path / "ws"), [str(p) for p in forms[i::4]]) for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        numbers = [n for batch in pool.map(_worker, batches) for n in batch]
    assert sorted(numbers) == [f"TS202611{i:04d}" for i in range(1, 33)]
    assert len(archived_files(tmp_path / "ws")) == 64


def test_crash_after_commit_before_move_is_completed_on_next_run(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    first = build(INTAKE, INTAKE_VALUES, tmp_path / "a.xlsx")
    second = build(INTAKE, dict(INTAKE_VALUES, customer_name="乙"), tmp_path / "b.xlsx")
    real_publish = archive.publish

    def crash(*args):
        raise KeyboardInterrupt("killed")
    monkeypatch.setattr(archive, "publish", crash)
    with pytest.raises(KeyboardInterrupt):
        process(first, ws, CLOCK)
    assert archived_files(ws.root) == []
    monkeypatch.setattr(archive, "publish", real_publish)
    assert process(second, ws, CLOCK).number == "TS2026110002"   # the first number stays taken
    assert archived_files(ws.root) == [
        "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx",
        "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx.meta.json",
        "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx",
        "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx.meta.json"]
    again = process(first, ws, CLOCK)                       # redoing the crashed file: no second number
    assert (again.status, again.number) == ("duplicate", "TS2026110001")


def test_crash_before_commit_leaves_no_trace(tmp_path, monkeypatch):
    ws = Workspace.open(tmp_path / "ws")
    form = build(INTAKE, INTAKE_VALUES, tmp_path / "a.xlsx")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed")
    monkeypatch.setattr(Journal, "log", crash)               # after the copy is staged, before COMMIT
    with pytest.raises(KeyboardInterrupt):
        process(form, ws, CLOCK)
    monkeypatch.undo()
    assert list(ws.staging.iterdir())                       # the staged copy was left behind
    receipt = process(form, ws, CLOCK)
    assert (receipt.status, receipt.number) == ("accepted", "TS2026110001")
    assert list(ws.staging.iterdir()) == []
    assert len(archived_files(ws.root)) == 2
