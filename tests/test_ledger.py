"""投诉管理台帐 (附件5): columns, real dates, no formulas, rebuilt identically from the archive."""
import os
import shutil
from datetime import datetime

import openpyxl
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit import sheets
from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.ledger import COLUMNS


def ledger_rows(workspace, year=2026, sheet="11月"):
    book = openpyxl.load_workbook(workspace / "ledger" / f"投诉管理台帐-{year}.xlsx")
    return book, [[c.value for c in row] for row in book[sheet].iter_rows()]


def test_ledger_row_per_case_with_annex_columns_first(tousu, form, workspace):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="=HYPERLINK(\"http://x\",\"点我\")")),
          form(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="0593-8231456", content="+1 表具漏气",
                            received_at=datetime(2026, 10, 31, 23, 0))))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, customer_name="=HYPERLINK(\"http://x\",\"点我\")",
                                         **REVIEWED)))
    book, rows = ledger_rows(workspace)
    assert book.sheetnames == ["10月", "11月"]
    assert rows[0][0] == "投诉信息管理台帐 2026年11月"
    assert rows[1] == COLUMNS and COLUMNS[:9] == ["序号", "投诉编号", "投诉时间", "投诉内容", "投诉地址/投诉人",
                                                  "联系电话", "处理意见与结果", "责任部门", "处理时间"]
    row = dict(zip(COLUMNS, rows[2], strict=True))
    assert row["投诉编号"] == "TS2026110001" and row["投诉时间"] == datetime(2026, 11, 20, 15, 30)
    assert row["投诉地址/投诉人"] == '三明市梅列区列东街28号 / =HYPERLINK("http://x","点我")'
    assert (row["处理意见与结果"], row["责任部门"], row["处理时间"]) == \
        (FEEDBACK_VALUES["result"], "客户创值赋能群", datetime(2026, 11, 21, 8, 30))
    assert (row["投诉性质"], row["投诉类别"], row["状态"], row["是否超时"], row["考核扣分"]) == \
        ("非重大", "责任", "待回访", "否", 1)
    assert row["回访时限"] == datetime(2026, 11, 24, 23, 59, 59)
    sheet = book["11月"]
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:T3"
    assert sheet["C3"].number_format == "yyyy-mm-dd hh:mm" and sheet["C3"].is_date


def test_text_that_looks_like_a_formula_stays_text(tousu, form, workspace):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="=HYPERLINK(\"http://x\",\"点我\")",
                                       content="=1+2", demand="@SUM(A1)")))
    book, _ = ledger_rows(workspace)
    sheet = book["11月"]
    assert sheet["D3"].value == "=1+2" and sheet["D3"].data_type == "s" and sheet["D3"].quotePrefix
    assert sheet["E3"].data_type == "s" and sheet["E3"].value.endswith('=HYPERLINK("http://x","点我")')


ERROR_LITERALS = ["#N/A", "#DIV/0!", "#REF!", "#NAME?", "#NULL!", "#NUM!", "#VALUE!"]


def test_text_that_looks_like_an_excel_error_stays_text(tousu, form, workspace):
    """A clerk's 「#N/A」 (copied from a lookup) is text in the ledger, the report and the score sheet,
    never an error value."""
    tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, customer_name=text, content=f"{text}", phone=f"1380000000{i}",
                                         received_at=datetime(2026, 11, 19, 8 + i)))
                       for i, text in enumerate(ERROR_LITERALS)])
    tousu("report", "--month", "2026-11")
    book, _ = ledger_rows(workspace)
    cells = [book["11月"].cell(r, 4) for r in range(3, 3 + len(ERROR_LITERALS))]
    assert [(c.value, c.data_type) for c in cells] == [(text, "s") for text in ERROR_LITERALS]
    report = openpyxl.load_workbook(workspace / "reports" / "服务月报-2026-11.xlsx")["未办结"]
    names = [report.cell(r, 3) for r in range(3, 3 + len(ERROR_LITERALS))]
    assert [(c.value, c.data_type) for c in names] == [(text, "s") for text in ERROR_LITERALS]


def test_put_keeps_every_excel_error_literal_as_text(tmp_path):
    book = openpyxl.Workbook()
    for row, text in enumerate(ERROR_LITERALS, start=1):
        sheets.put(book.active, row, 1, text)
    book.save(tmp_path / "e.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "e.xlsx").active
    assert [(c.value, c.data_type) for (c,) in sheet.iter_rows()] == [(text, "s") for text in ERROR_LITERALS]


def test_rebuild_from_the_archive_gives_the_same_rows_and_a_new_next_number(tousu, form, workspace):
    tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}",
                                         received_at=datetime(2026, 11, 19, 8 + i))) for i in range(6)])
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, customer_name="客户0", phone="13900000000",
                                         received_at=datetime(2026, 11, 19, 8), **REVIEWED)))
    _, before = ledger_rows(workspace)
    shutil.rmtree(workspace / "ledger")
    shutil.rmtree(workspace / ".tousu")
    code, result, _ = tousu("ledger", "rebuild")
    assert code == 0 and result[0]["cases"] == 6 and result[0]["ledgers"] == ["投诉管理台帐-2026.xlsx"]
    _, after = ledger_rows(workspace)
    assert after == before
    code, lines, _ = tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="新", phone="13600000000")))
    assert lines[0]["number"] == "TS2026110007"


def test_a_ledger_open_in_excel_is_retried_with_the_next_batch(tousu, form, workspace, monkeypatch):
    real_replace = os.replace

    def locked(source, target):
        if "投诉管理台帐" in str(target):
            raise PermissionError(13, "locked")
        return real_replace(source, target)
    monkeypatch.setattr(os, "replace", locked)
    code, lines, output = tousu("process", form(INTAKE, INTAKE_VALUES))
    assert code == 0 and lines[0]["status"] == "accepted" and "正被其他程序" in output
    assert not (workspace / "ledger" / "投诉管理台帐-2026.xlsx").exists()
    assert list((workspace / "ledger").iterdir()) == []          # no half-written file left behind
    monkeypatch.setattr(os, "replace", real_replace)
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, customer_name="乙", phone="13600000000",
                                       received_at=datetime(2025, 12, 1, 9))))
    assert (workspace / "ledger" / "投诉管理台帐-2026.xlsx").exists()      # the pending year caught up
    assert (workspace / "ledger" / "投诉管理台帐-2025.xlsx").exists()
