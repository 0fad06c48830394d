"""Issue 10: the archive is the truth under every fault. A lost, empty, damaged or stale journal never
reissues a number nor overwrites an archived form; refusals and arrival order survive any number of
rebuilds; a damaged archive is reported, never a reason for the rebuild to stop."""
import json
import shutil
from datetime import datetime

import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED, archived_files

from toolkit import archive
from toolkit.clock import Clock
from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.process import process
from toolkit.workspace import Workspace

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))


def customer(i: int, **changes) -> dict:
    return dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1380000{i:04d}", **changes)


def numbers(lines) -> list:
    return [line["number"] for line in lines]


@pytest.mark.parametrize("damage", ["deleted", "empty", "garbled", "schema-1"])
def test_a_lost_or_damaged_journal_never_reissues_a_number(damage, tousu, form, workspace):
    code, lines, _ = tousu("process", form(INTAKE, customer(1)), form(INTAKE, customer(2)))
    assert numbers(lines) == ["TS2026110001", "TS2026110002"]
    first = (workspace / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx").read_bytes()
    journal = workspace / ".tousu" / "journal.sqlite3"
    if damage == "deleted":
        shutil.rmtree(workspace / ".tousu")
    elif damage == "empty":
        journal.write_bytes(b"")
    elif damage == "garbled":
        journal.write_bytes(b"this is not a database" * 100)
    else:
        import sqlite3
        db = sqlite3.connect(journal)
        db.execute("PRAGMA user_version = 1")
        db.commit()
        db.close()
    code, lines, output = tousu("process", form(INTAKE, customer(3)))
    assert (code, numbers(lines)) == (0, ["TS2026110003"]), output
    assert (workspace / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx").read_bytes() == first
    code, lines, _ = tousu("verify")
    assert code == 0, lines


def test_a_journal_behind_the_archive_is_rebuilt_not_trusted(tousu, form, workspace):
    """A journal restored from an older copy (or whose -wal was lost) is behind the archive's counters."""
    tousu("process", form(INTAKE, customer(1)))
    journal = workspace / ".tousu" / "journal.sqlite3"
    old = journal.read_bytes()
    tousu("process", form(INTAKE, customer(2)))
    for extra in ("-wal", "-shm"):
        journal.with_name(journal.name + extra).unlink(missing_ok=True)
    journal.write_bytes(old)                                   # the journal forgot TS2026110002
    code, lines, _ = tousu("process", form(INTAKE, customer(3)))
    assert numbers(lines) == ["TS2026110003"]
    assert len([p for p in archived_files(workspace) if p.endswith(".xlsx")]) == 3


def test_lost_archive_counters_are_restored_from_the_journal_and_never_go_back(tousu, form, workspace):
    tousu("process", form(INTAKE, customer(1)), form(INTAKE, customer(2)))
    (workspace / "archive" / ".counters.json").unlink()
    code, lines, _ = tousu("process", form(INTAKE, customer(3)))
    assert numbers(lines) == ["TS2026110003"]
    counters = json.loads((workspace / "archive" / ".counters.json").read_text())
    assert counters == {"order": 3, "sequences": {"TS202611*": 3}}


def test_publishing_never_replaces_an_archived_file(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    target = ws.archive / "2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"the clerk's first form")
    ws.staging.mkdir(parents=True, exist_ok=True)
    (ws.staging / target.name).write_bytes(b"another form")
    with pytest.raises(archive.ArchiveConflict, match="不会覆盖"):
        archive.publish(ws, ws.relative(target))
    assert target.read_bytes() == b"the clerk's first form"
    with pytest.raises(archive.ArchiveConflict):
        archive.ensure_free(ws, ws.relative(target))


def test_refusals_and_arrival_order_survive_rebuilds(tousu, form, workspace):
    """合格率 3/6 stays 3/6 after a rebuild; a later feedback version stays the current one."""
    clean = [form(INTAKE, customer(i)) for i in range(1, 4)]
    refused = [form(INTAKE, customer(9, content=None)) for _ in range(3)]
    tousu("process", *clean, *refused)
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, customer_name="客户1", phone="13800000001",
                                         result="第一版：已联系客户。", **REVIEWED)))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, customer_name="客户1", phone="13800000001",
                                         result="第二版：已重新抄表并退费。", **REVIEWED)))

    def figures():
        code, lines, _ = tousu("report", "--month", "2026-11")
        rate = lines[0]["rates"]["投诉信息维护合格率"]
        ws = Workspace.open(workspace)
        result = ws.journal.latest_facts("TS2026110001", "feedback")["result"]
        return rate["numerator"], rate["denominator"], result

    live = figures()
    assert live == (5, 8, "第二版：已重新抄表并退费。")
    for _ in range(2):
        code, lines, _ = tousu("ledger", "rebuild")
        assert code == 0 and lines[0]["refusals"] == 3
        assert figures() == live
    code, lines, _ = tousu("status")
    assert lines[0]["today"] == {"accepted": 5, "refused": 3}


def test_a_damaged_archive_is_skipped_and_named_never_a_stop(tousu, form, workspace):
    tousu("process", *[form(INTAKE, customer(i)) for i in range(1, 4)])
    case_two = workspace / "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx.meta.json"
    case_two.write_text("{ not json", encoding="utf-8")
    case_three = workspace / "archive/2026/11/TS2026110003/TS2026110003-受理记录单-v1.xlsx.meta.json"
    meta = json.loads(case_three.read_text(encoding="utf-8"))
    meta["number"] = "TS2026110001"                             # an edited number must not merge two cases
    case_three.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    code, lines, output = tousu("ledger", "rebuild")
    assert code == 1 and lines[0]["cases"] == 1
    assert {s["path"] for s in lines[0]["skipped"]} == {
        "archive/2026/11/TS2026110002/TS2026110002-受理记录单-v1.xlsx.meta.json",
        "archive/2026/11/TS2026110003/TS2026110003-受理记录单-v1.xlsx.meta.json"}
    assert "Traceback" not in output
    code, lines, _ = tousu("process", form(INTAKE, customer(4)))
    assert numbers(lines) == ["TS2026110004"]                  # the counters remember 0002 and 0003


def test_verify_lists_each_inconsistency_with_its_path(tousu, form, workspace):
    tousu("process", *[form(INTAKE, customer(i)) for i in range(1, 3)])
    code, lines, _ = tousu("verify")
    assert (code, lines[0]["findings"]) == (0, [])
    shutil.rmtree(workspace / "archive/2026/11/TS2026110002")        # a deleted case folder
    (workspace / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx").write_bytes(b"swapped")
    code, lines, output = tousu("verify")
    problems = {(f["path"], f["problem"]) for f in lines[0]["findings"]}
    assert code == 1
    assert ("archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx", "归档表单的内容与归档时不同（被修改或替换过）") \
        in problems
    assert ("案件 TS2026110002", "日志中有该案件，归档中没有其案卷") in problems
    assert any(path.startswith("ledger/") for path, _ in problems)      # the ledger still lists TS2026110002
    code, _, text = tousu("verify", json_out=False)
    assert code == 1 and "TS2026110002" in text


def test_the_same_submission_twice_records_one_refusal(tmp_path):
    ws = Workspace.open(tmp_path / "ws")
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"not an office file")
    for _ in range(2):                                   # a kill between the journal write and the move
        receipt = process(bad, ws, CLOCK, "inbox", submission="20261121090000-abcdef")
        assert receipt.status == "refused"
    assert ws.journal.files_counted("2026-11-21") == {"refused": 1}
    assert len(list((ws.archive / "拒收记录").glob("*/*.json"))) == 1


def test_an_identical_resend_under_the_same_name_is_filed_as_a_duplicate(tmp_path):
    from toolkit.forms.build import build
    from toolkit.watcher import Watcher
    ws = Workspace.open(tmp_path / "ws")
    source = build(INTAKE, INTAKE_VALUES, tmp_path / "附件1 客户投诉受理记录单.xlsx")
    watcher = Watcher(ws, CLOCK, settle=0)
    for _ in range(2):
        shutil.copyfile(source, ws.inbox / source.name)
        assert watcher.run(once=True) == 0
    copies = list(ws.archive.rglob("重复提交/*"))
    assert [p.name for p in copies] == ["附件1 客户投诉受理记录单.xlsx"]
    receipts = sorted(p.name for p in ws.receipts.glob("*.回执.txt"))
    assert len(receipts) == 2 and all(".TS2026110001." in name for name in receipts)


def test_a_place_no_writer_knows_is_an_error_not_a_silent_skip():
    from toolkit.forms.grid import CannotWrite, Cell, write_text
    with pytest.raises(CannotWrite, match="D5"):
        write_text(Cell(5, 4, None, "D5", handle=object()), "TS2026110001")


def test_verify_finds_what_review_found_missing_and_changes_nothing(tmp_path):
    from toolkit.forms.build import build
    from toolkit.verify import verify
    from toolkit.watcher import Watcher
    ws = Workspace.open(tmp_path / "ws")
    for i in range(2):
        build(INTAKE, customer(i), ws.inbox / f"{i}.xlsx")
    (ws.inbox / "坏.xlsx").write_bytes(b"junk")
    assert Watcher(ws, CLOCK, settle=0).run(once=True) == 0
    assert verify(ws, CLOCK.now()) == []
    ledger = ws.ledger / "投诉管理台帐-2026.xlsx"
    import openpyxl
    book = openpyxl.load_workbook(ledger)
    book["11月"]["G3"] = "被人改过"
    book.save(ledger)
    next(ws.receipts.glob("0.xlsx.*.回执.txt")).unlink()
    next(ws.rejected.glob("*.错误说明.txt")).unlink()
    (ws.archive / "2026/11/TS2026110001/stray.xlsx").write_bytes(b"x")
    (ws.archive / "2026/11/TS2026110099").mkdir()
    counters = (ws.archive / ".counters.json").read_bytes()
    (ws.archive / ".counters.json").write_text('{"order": 1, "sequences": {"TS202611*": 1}}')
    behind = (ws.archive / ".counters.json").read_bytes()
    findings = [f"{f.path}：{f.problem}" for f in verify(ws, CLOCK.now())]
    assert (ws.archive / ".counters.json").read_bytes() == behind != counters      # verify repaired nothing
    for expected in ("ledger/投诉管理台帐-2026.xlsx：台帐与最后一次写入时不同", "缺少回执（.回执.txt）",
                     "退回的文件缺少错误说明", "archive/2026/11/TS2026110001/stray.xlsx：案卷中有不属于本案的文件",
                     "archive/2026/11/TS2026110099：空的案卷文件夹", "archive/.counters.json：归档计数"):
        assert any(expected in line for line in findings), (expected, findings)
