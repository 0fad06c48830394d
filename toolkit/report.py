"""Workbooks for the month end: the score sheet an auditor recomputes by hand (§7) and the
服务月报 (§9)."""
from pathlib import Path

import openpyxl

from .scoring import PERSON_PENALTIES
from .sheets import put, save_atomically, write_table

SCORE_HEADERS = ["责任部门", "重大投诉(起)", "责任投诉(起)", "非责任投诉(起)", "超时(起)", "扣分合计"]
LINE_HEADERS = ["责任部门", "投诉编号", "扣分依据", "扣分"]


def add_score_sheets(book, scores: list) -> None:
    write_table(book.create_sheet("考核汇总"), SCORE_HEADERS,
                [[s.unit, s.major, s.responsible, s.non_responsible, s.late, s.points] for s in scores])
    lines = book.create_sheet("扣分明细")
    write_table(lines, LINE_HEADERS, [[s.unit, line.number, line.reason, line.points]
                                      for s in scores for line in s.lines],
                {"责任部门": 16, "投诉编号": 15, "扣分依据": 70, "扣分": 8})
    reference = book.create_sheet("责任人考核参考")
    write_table(reference, ["投诉级别", "对投诉主要责任人考核扣罚参考标准（办法10.1，供参考，不自动计算）"],
                [list(row) for row in PERSON_PENALTIES], {"投诉级别": 12})
    reference.column_dimensions["B"].width = 90


def score_sheet_path(ws, month: str) -> Path:
    return ws.reports / f"考核明细-{month}.xlsx"


def write_score_sheet(ws, month: str, scores: list) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    add_score_sheets(book, scores)
    put(book["考核汇总"], len(scores) + 3, 1, f"{month} 考核扣分；依据《客户投诉管理办法》第10条，明细见「扣分明细」。")
    target = score_sheet_path(ws, month)
    save_atomically(book, target)
    return target
