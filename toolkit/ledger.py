"""投诉信息管理台帐 (附件5): ledger/投诉管理台帐-YYYY.xlsx, one sheet per month of 受理时间, one row per
case; the annex columns first, then the toolkit's. Written from the journal in one go per batch.

A month prints as the annex: the title 「投诉信息管理台帐 YYYY年MM月」, the header repeated on every
page and the annex's nine columns only, sized to fill a landscape A4 page at about 87% (≥ 80% is
readable). The toolkit's columns stay on the same rows, right of the print area: one row per case
keeps filtering and sorting whole (filter 是否超时 = 是 and the printout shows those cases), where a
sheet of their own would split every case in two."""
from datetime import datetime
from pathlib import Path

import openpyxl

from .period import month_bounds
from .scoring import case_points, late_stages, score_month
from .sheets import save_atomically, write_table

ANNEX_COLUMNS = ["序号", "投诉编号", "投诉时间", "投诉内容", "投诉地址/投诉人", "联系电话", "处理意见与结果",
                 "责任部门", "处理时间"]
TOOLKIT_COLUMNS = ["受理渠道", "投诉性质", "投诉类别", "重大依据", "调查反馈时限", "处理反馈时限", "回访时限",
                   "状态", "是否超时", "回访评价", "考核扣分"]
COLUMNS = ANNEX_COLUMNS + TOOLKIT_COLUMNS
# The printed annex columns: 905 pt of widths on the 784 pt of a landscape A4 page -> printed at ~87%.
WIDTHS = {"序号": 6, "投诉编号": 14, "投诉时间": 17, "投诉内容": 32, "投诉地址/投诉人": 20, "联系电话": 14,
          "处理意见与结果": 32, "责任部门": 14, "处理时间": 17}


def ledger_path(ws, year: int) -> Path:
    return ws.ledger / f"投诉管理台帐-{year:04d}.xlsx"


def _moment(value):
    return datetime.fromisoformat(value) if value else None


def month_rows(journal, policy, month: str, now: datetime) -> list:
    start, end = month_bounds(month)
    points = case_points(score_month(journal, policy, month, now))
    rows = []
    for index, case in enumerate(journal.cases_received(start, end), start=1):
        facts, state, number = case["facts"], case["state"], case["number"]
        feedback = journal.latest_facts(number, "feedback")
        who = " / ".join(v for v in (facts.get("address"), facts.get("customer_name")) if v)
        severity = "疑似重大" if state["suspected_major"] else state["severity"]
        deadlines = state["deadlines"]
        rows.append([index, number, _moment(facts["received_at"]), facts.get("content"), who, facts.get("phone"),
                     feedback.get("result"), state.get("unit"), _moment(state["met"].get("handling")),
                     facts.get("channel"), severity, state.get("responsibility"), "；".join(state["major_reasons"]),
                     _moment(deadlines.get("investigation")), _moment(deadlines.get("handling")),
                     _moment(deadlines.get("callback")), state["status"],
                     "是" if late_stages(state, now) else "否", state.get("evaluation"), points.get(number, 0)])
    return rows


def write_ledger(ws, year: int, now: datetime) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    journal, policy = ws.journal, ws.policy
    for mon in range(1, 13):
        month = f"{year:04d}-{mon:02d}"
        rows = month_rows(journal, policy, month, now)
        if rows:
            write_table(book.create_sheet(f"{mon}月"), COLUMNS, rows, WIDTHS, title=f"投诉信息管理台帐 {year}年{mon:02d}月",
                        printed=len(ANNEX_COLUMNS))
    if not book.worksheets:
        write_table(book.create_sheet("说明"), COLUMNS, [])
    target = ledger_path(ws, year)
    save_atomically(book, target)
    return target


def case_years(journal, numbers) -> set:
    return {int(journal.case(n)["received_at"][:4]) for n in numbers if n and journal.case(n)}


def all_years(journal) -> list:
    return [int(row[0]) for row in journal.db.execute("SELECT DISTINCT substr(received_at, 1, 4) FROM cases ORDER BY 1")]
