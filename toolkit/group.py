"""Group figures: the 服务月报 and the §7 scores of every office on the group's journal server, one sheet
per office and a summary sheet. Each office's figures are exactly that office's own (report.month_figures,
scoring.score_month over its journal, read-only); the summary adds them up (rates from the summed
numerators and denominators). The group's policy — the workspace `tousu report --group` runs in — names
the units and channels for every office."""
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import openpyxl

from .errors import ConfigError
from .report import Rate, month_figures, month_json
from .scoring import score_month
from .sheets import put, save_atomically, write_table

RATE_HEADERS = ["单位", "受理投诉(件)", "重复投诉(件)", "未办结(件)"]
SCORE_HEADERS = ["单位", "责任部门", "重大投诉(起)", "责任投诉(起)", "非责任投诉(起)", "超时(起)", "扣分合计"]
TOTAL = "集团合计"


def office_name(code: str) -> str:
    return code or "默认"


@contextmanager
def office_journals(ws):
    """[(office code, its read-only journal)] of every office on the workspace's journal server."""
    from .journal_pg import PgStore
    store = ws.journal_store
    if not isinstance(store, PgStore):
        raise ConfigError("集团汇总需要各单位共用的 PostgreSQL 日志：请在策略 [journal] url 或环境变量 "
                          "TOUSU_JOURNAL 中设置 postgresql://…（见 README「集团：多个单位共用一个日志数据库」）。")
    codes = [code for code, _ in store.offices()]      # a group reader needs no office of its own
    journals = []
    try:
        for code in codes:
            journals.append((code, store.for_office(code).reader()))
        yield journals
    finally:
        for _, journal in journals:
            journal.close()


def _summed(parts: list[dict]) -> dict:
    """The group's line: counts added, each rate from the summed numerators and denominators."""
    rates = {}
    for name in parts[0]["rates"] if parts else ():
        numerator = sum(p["rates"][name]["numerator"] for p in parts)
        denominator = sum(p["rates"][name]["denominator"] for p in parts)
        rates[name] = {"numerator": numerator, "denominator": denominator,
                       "rate": Rate(name, numerator, denominator, "").value}
    return {"cases": sum(p["cases"] for p in parts), "repeat": sum(p["repeat"] for p in parts),
            "open": sum(p["open"] for p in parts), "rates": rates}


def _rate_row(label: str, line: dict) -> list:
    row = [label, line["cases"], line["repeat"], line["open"]]
    for r in line["rates"].values():
        row += [r["numerator"], r["denominator"], r["rate"]]
    return row


def group_report(ws, month: str, now: datetime) -> tuple[Path, dict]:
    """reports/集团服务月报-YYYY-MM.xlsx; returns it and {"offices": {code: figures}, "total": figures}."""
    with office_journals(ws) as journals:
        full = {code: month_figures(journal, ws.policy, month, now) for code, journal in journals}
    offices = {code: month_json(figures) for code, figures in full.items()}
    total = _summed(list(offices.values()))
    rate_names = list(total["rates"])
    headers = RATE_HEADERS + [f"{name}{part}" for name in rate_names for part in ("分子", "分母", "")]
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "汇总"
    last = write_table(summary, headers, [_rate_row(office_name(c), line) for c, line in offices.items()]
                       + [_rate_row(TOTAL, total)], title=f"集团服务月报 {month}")
    for row in summary.iter_rows(min_row=3, max_row=last):
        for cell in row[len(RATE_HEADERS) + 2::3]:
            cell.number_format = "0.00%"
    for code, line in offices.items():
        sheet = book.create_sheet(office_name(code))
        row = write_table(sheet, headers, [_rate_row(office_name(code), line)],
                          title=f"{office_name(code)} 服务月报 {month}") + 3
        for dimension, counts in full[code]["by"].items():      # the office's counts, as in its own 月报
            row = write_table(sheet, [dimension, "件数"], counts, start_row=row) + 3
    target = ws.reports / f"集团服务月报-{month}.xlsx"
    save_atomically(book, target)
    return target, {"offices": offices, "total": total}


def _score_rows(code: str, scores: list) -> list:
    return [[office_name(code), s.unit if s.charged else f"{s.unit}（仅列示，不计入）", s.major, s.responsible,
             s.non_responsible, s.late, s.points] for s in scores]


def group_scores(ws, month: str, now: datetime) -> tuple[Path, dict]:
    """reports/集团考核明细-YYYY-MM.xlsx; returns it and {"offices": {code: [unit scores]}, "total": {unit: points}}."""
    with office_journals(ws) as journals:
        offices = {code: score_month(journal, ws.policy, month, now) for code, journal in journals}
    total: dict = {}
    for scores in offices.values():
        for s in scores:
            if s.charged:
                total[s.unit] = float(Decimal(str(total.get(s.unit, 0))) + Decimal(str(s.points)))
    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "汇总"
    rows = [row for code, scores in offices.items() for row in _score_rows(code, scores)]
    last = write_table(summary, SCORE_HEADERS, rows, title=f"集团考核扣分 {month}")
    write_table(summary, ["责任部门", "集团合计扣分"], [[unit, points] for unit, points in total.items()],
                start_row=last + 3)
    for code, scores in offices.items():
        sheet = book.create_sheet(office_name(code))
        write_table(sheet, ["责任部门", "投诉编号", "扣分依据", "扣分"],
                    [[s.unit, line.number, line.reason, line.points] for s in scores for line in s.lines],
                    {"扣分依据": 50}, title=f"{office_name(code)} 考核扣分明细 {month}")
    put(summary, summary.max_row + 2, 1, "依据《客户投诉管理办法》第10条；各单位明细见以单位代码命名的工作表。")
    target = ws.reports / f"集团考核明细-{month}.xlsx"
    save_atomically(book, target)
    return target, {"offices": {c: [s.to_json() for s in scores] for c, scores in offices.items()}, "total": total}
