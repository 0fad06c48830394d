"""The Excel buttons (toolkit/xl.py) driven on Linux through a fake Book that behaves like xlwings'."""
import threading
from datetime import datetime

import pytest
from conftest import INTAKE_VALUES
from fake_xlwings import FakeBook

from toolkit import commands, xl
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.watcher import Watcher
from toolkit.workspace import Workspace

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))


@pytest.fixture
def running_watcher(workspace, monkeypatch):
    monkeypatch.setenv("TOUSU_WORKSPACE", str(workspace))
    watcher = Watcher(Workspace.open(workspace), CLOCK, settle=0.2, rescan=0.5)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    yield watcher
    watcher.stop()
    thread.join(timeout=10)


def sheet_rows(book, name):
    return {row[0]: row[1] for row in book.sheets[name].used_range.value if row[0]}


def test_submit_writes_the_number_and_deadlines_back(running_watcher, tmp_path):
    (tmp_path / "desk").mkdir()
    book = FakeBook(build(INTAKE, INTAKE_VALUES, tmp_path / "desk" / "受理记录单.xlsx"))
    xl.main(book, clock=CLOCK)                                      # the add-in's "Run main" on a form sheet
    assert book.saved == 1
    assert book.sheets.active.range("B4").value == "TS2026110001"
    receipt = sheet_rows(book, "回执")
    assert (receipt["结果"], receipt["投诉编号"], receipt["投诉性质"]) == ("已受理", "TS2026110001", "非重大")
    assert receipt["调查反馈时限"] == datetime(2026, 11, 23, 23, 59, 59)
    assert receipt["处理反馈时限"] == datetime(2026, 11, 26, 23, 59, 59)


def test_submit_of_a_refused_form_says_why(running_watcher, tmp_path):
    (tmp_path / "desk").mkdir()
    book = FakeBook(build(INTAKE, dict(INTAKE_VALUES, content=None), tmp_path / "desk" / "缺内容.xlsx"))
    xl.submit(book, wait=20, clock=CLOCK)
    receipt = sheet_rows(book, "回执")
    assert receipt["结果"] == "已拒收" and receipt["拒收原因：投诉内容"].startswith("B6 ")
    assert book.sheets.active.range("B4").value is None


def test_without_a_watcher_the_clerk_is_told_it_waits(tmp_path, workspace, monkeypatch):
    monkeypatch.setenv("TOUSU_WORKSPACE", str(workspace))
    (tmp_path / "desk").mkdir()
    book = FakeBook(build(INTAKE, INTAKE_VALUES, tmp_path / "desk" / "受理.xlsx"))
    xl.submit(book, wait=0.3, clock=CLOCK)
    assert "已放入收件箱" in sheet_rows(book, "回执")
    assert [p.suffix for p in (workspace / "inbox").iterdir()] == [".xlsx"]


def office_book(tmp_path, sheet_name):
    import openpyxl
    path = tmp_path / "tousu_excel.xlsx"
    book = openpyxl.Workbook()
    book.active.title = sheet_name
    book.save(path)
    return FakeBook(path)


def test_ledger_notices_and_score_buttons(tousu, form, workspace, tmp_path, monkeypatch):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit="客户创值赋能群", received_at=datetime(2026, 11, 10, 9))))
    monkeypatch.setenv("TOUSU_WORKSPACE", str(workspace))
    book = office_book(tmp_path, "台帐")
    xl.main(book, clock=CLOCK)
    assert sheet_rows(book, "台帐") == {"已更新": "投诉管理台帐-2026.xlsx"}
    book.wb.create_sheet("督办")
    book.activate("督办")
    xl.main(book, clock=CLOCK)
    rows = book.sheets["督办"].used_range.value
    assert rows[1][:2] == ["TS2026110001", "调查反馈"]
    assert rows[1][4] == "archive/2026/11/TS2026110001/TS2026110001-督办通知单-调查反馈.docx"
    assert (workspace / rows[1][4]).exists()
    book.wb.create_sheet("考核")
    book.activate("考核")
    xl.main(book, clock=CLOCK)
    rows = book.sheets["考核"].used_range.value
    # received 11-10, no feedback, investigation due 11-13: late by 11-21
    assert rows[1][:3] == ["客户创值赋能群", "合计", 0.5] and rows[2][1] == "TS2026110001"


def test_udf_computes_a_deadline_in_a_cell(monkeypatch, tmp_path):
    monkeypatch.setenv("TOUSU_WORKSPACE", str(tmp_path))
    assert xl.TOUSU_DUE("客服热线", "非重大", "2026-11-20 15:30") == datetime(2026, 11, 23, 23, 59, 59)
    # serial 46346.6 = 2026-11-20 14:24; hotline major: investigation +1 day, handling +1 more
    assert xl.TOUSU_DUE("XX能源服务质量监督热线批转", "重大", 46346.6, "handling") == \
        datetime(2026, 11, 22, 23, 59, 59)


def test_the_shipped_button_workbook(tmp_path, tousu, monkeypatch):
    import importlib
    import shutil
    import zipfile

    from toolkit.paths import TEMPLATES
    workbook = shutil.copy(TEMPLATES / "tousu_excel.xlsm", tmp_path / "tousu_excel.xlsm")
    assert "xl/vbaProject.bin" in zipfile.ZipFile(workbook).namelist()
    book = FakeBook(workbook)
    expected = {"受理记录单": "intake", "调查处理反馈单": "feedback", "回访记录单": "callback",
                "延期申请单": "extension", "申诉单": "appeal"}
    for sheet, kind in expected.items():
        book.activate(sheet)
        assert xl.active_form_kind(book).key == kind
    book.activate("考核")
    assert xl.active_form_kind(book) is None
    book.activate("回访记录单")
    book.save()                                        # as Excel saves it: the form on screen is active
    code, lines, _ = tousu("check", workbook)
    assert lines[0]["form"] == "callback" and lines[0]["status"] == "refused"
    assert "xl/vbaProject.bin" in zipfile.ZipFile(workbook).namelist()
    monkeypatch.syspath_prepend(str(TEMPLATES))
    module = importlib.import_module("tousu_excel")
    assert module.main is xl.main and module.TOUSU_DUE is xl.TOUSU_DUE


# Issue 11 item 6: what the Excel buttons write is the clerk's text, verbatim, never a formula.
HOSTILE_UNITS = ['=HYPERLINK("http://x.example/","点我")', "=cmd|' /C calc'!A0", "+1+A1", "-A1", "@SUM(A1)",
                 "'引号开头", "0593-2856677"]


def test_the_fake_book_takes_values_as_excel_does(tmp_path):
    book = office_book(tmp_path, "考核")
    sheet = book.sheets["考核"]
    sheet.range("A1").value = [['=HYPERLINK("x")', "'=HYPERLINK(\"x\")", "007", "'007", "文本"]]
    sheet.range("A2").number_format = "@"
    sheet.range("A2").value = '=HYPERLINK("x")'
    cells = [sheet.ws.cell(1, c) for c in range(1, 6)] + [sheet.ws["A2"]]
    assert [c.data_type for c in cells] == ["f", "s", "n", "s", "s", "s"]
    assert [c.value for c in cells] == ['=HYPERLINK("x")', '=HYPERLINK("x")', 7, "007", "文本", '=HYPERLINK("x")']
    assert cells[1].quotePrefix and not cells[4].quotePrefix


def saved_cells(book, name):
    import openpyxl
    book.save()
    return [cell for row in openpyxl.load_workbook(book.fullname)[name].iter_rows() for cell in row
            if cell.value is not None]


def test_score_sheet_keeps_unit_names_as_text(tmp_path, workspace, monkeypatch):
    from toolkit.scoring import UnitScore
    monkeypatch.setenv("TOUSU_WORKSPACE", str(workspace))
    scores = []
    for number, unit in enumerate(HOSTILE_UNITS, start=1):
        score = UnitScore(unit)
        score.add(f"TS202611{number:04d}", f"{unit} 未在时限内反馈", 0.5)
        scores.append(score)
    monkeypatch.setattr(commands, "score_month", lambda *args: scores)
    book = office_book(tmp_path, "考核")
    xl.main(book, clock=CLOCK)
    cells = saved_cells(book, "考核")
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in cells if c.column == 1][1:] == [u for u in HOSTILE_UNITS for _ in range(2)]
    assert [c.value for c in cells if c.column == 3][1:] == [0.5] * 2 * len(HOSTILE_UNITS)     # numbers stay numbers
    assert f"{HOSTILE_UNITS[1]} 未在时限内反馈" in [c.value for c in cells]


def test_supervision_sheet_keeps_unit_names_as_text(tmp_path, workspace, monkeypatch):
    from toolkit.notices import Overdue
    monkeypatch.setenv("TOUSU_WORKSPACE", str(workspace))
    items = [Overdue(f"TS202611{n:04d}", "investigation", "2026-11-13T23:59:59", unit, f"archive/{unit}.docx")
             for n, unit in enumerate(HOSTILE_UNITS, start=1)]
    monkeypatch.setattr(commands, "find_overdue", lambda journal, as_of: items)
    monkeypatch.setattr(commands, "issue_notices", lambda ws, found, as_of, now: found)
    book = office_book(tmp_path, "督办")
    xl.main(book, clock=CLOCK)
    cells = saved_cells(book, "督办")
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert [c.value for c in cells if c.column == 4][1:] == HOSTILE_UNITS
    assert [c.value for c in cells if c.column == 5][1:] == [f"archive/{u}.docx" for u in HOSTILE_UNITS]
    assert [c.value for c in cells if c.column == 3][1:] == [datetime(2026, 11, 13, 23, 59, 59)] * len(HOSTILE_UNITS)
