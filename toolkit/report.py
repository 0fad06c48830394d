"""Workbooks for the month end: the score sheet an auditor recomputes by hand (§7) and the
服务月报 (§9)."""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)
from openpyxl.styles import Font
from openpyxl.worksheet.pagebreak import Break

from .cases import CaseState
from .period import month_bounds, previous_months
from .scoring import PERSON_PENALTIES, UNASSIGNED, score_month
from .sheets import FONT, print_setup, put, save_atomically, write_table

SCORE_HEADERS = ["责任部门", "重大投诉(起)", "责任投诉(起)", "非责任投诉(起)", "超时(起)", "扣分合计"]
LINE_HEADERS = ["责任部门", "投诉编号", "扣分依据", "扣分"]
CHART_CM = (17, 10)                     # width, height: fits A4 portrait between the margins, with room to spare


def add_score_sheets(book, scores: list) -> None:
    write_table(book.create_sheet("考核汇总"), SCORE_HEADERS,
                [[s.unit if s.charged else f"{s.unit}（仅列示，不计入）", s.major, s.responsible, s.non_responsible,
                  s.late, s.points] for s in scores])
    lines = book.create_sheet("扣分明细")
    write_table(lines, LINE_HEADERS, [[s.unit, line.number, line.reason, line.points]
                                      for s in scores for line in s.lines], {"扣分依据": 50})
    reference_header = "对投诉主要责任人考核扣罚参考标准（办法10.1，供参考，不自动计算）"
    write_table(book.create_sheet("责任人考核参考"), ["投诉级别", reference_header],
                [list(row) for row in PERSON_PENALTIES], {reference_header: 80})


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


# ------------------------------------------------------------------ 服务月报 (seed 8.1.2, 9.2)
@dataclass
class Rate:
    name: str
    numerator: int
    denominator: int
    definition: str

    @property
    def value(self) -> float | None:
        return round(self.numerator / self.denominator, 4) if self.denominator else None


def month_json(figures: dict) -> dict:
    """A month's figures as `tousu report --json` gives them: counts, and each rate with its parts."""
    return {"cases": len(figures["cases"]),
            "rates": {r.name: {"numerator": r.numerator, "denominator": r.denominator, "rate": r.value}
                      for r in figures["rates"]},
            "repeat": len(figures["repeat"]), "open": len(figures["open"])}


def _counts(values) -> list:
    return sorted(Counter(v or "未填写" for v in values).items(), key=lambda kv: (-kv[1], kv[0]))


def month_figures(journal, policy, month: str, now: datetime) -> dict:
    start, end = month_bounds(month)
    cases = [{**case, "state": CaseState.from_json(case["state"])} for case in journal.cases_received(start, end)]
    states: list[CaseState] = [c["state"] for c in cases]
    feedbacks = {c["number"]: journal.latest_facts(c["number"], "feedback") for c in cases}
    handled = [s for s in states if "handling" in s.met or s.status == "重新处理"]
    callbacks = [f["facts"]["evaluation"] for c in cases for f in journal.case_files(c["number"])
                 if f["kind"] == "callback"]
    files = journal.forms_received(start, end)
    timed = [k for k in policy.unit_stages if k != "promise"]
    rates = [
        Rate("投诉处理及时率", sum(1 for s in handled if not s.late), len(handled),
             f"已处理投诉中{'、'.join(policy.stage_name(k) for k in timed)}均按时的件数 / "
             f"已处理（已反馈处理结果，含回访不满意后重新处理）件数"),
        Rate("投诉处理满意率", sum(1 for e in callbacks if e in ("满意", "基本满意")), len(callbacks),
             "回访评价为满意或基本满意的次数 / 回访次数"),
        Rate("投诉信息维护合格率", sum(1 for f in files if f["status"] == "archived" and not f["problems"]),
             len(files), "本月收到的表单中无填写缺陷且受理的份数 / 本月收到的表单份数（含拒收）"),
    ]
    return {
        "cases": cases, "rates": rates,
        "by": {"受理渠道": _counts(policy.channel_name(c["facts"].get("channel")) for c in cases),
               "投诉性质": _counts("疑似重大" if s.suspected_major else s.severity for s in states),
               "投诉类别": _counts(s.responsibility or "未判定" for s in states),
               "责任部门": _counts(s.unit or UNASSIGNED for s in states),
               "业务大类": _counts(feedbacks[c["number"]].get("business") or "未反馈" for c in cases)},
        "repeat": [c for c in cases if any(r.startswith("规则8") for r in c["state"].major_reasons)],
        "open": [c for c in cases if c["state"].status != "已办结"],
        "scores": score_month(journal, policy, month, now),
        "trend": [(m, len(journal.cases_received(*month_bounds(m)))) for m in previous_months(month, 12)],
    }


def _summary_sheet(book, month: str, figures: dict) -> None:
    ws = book.create_sheet("概要")
    put(ws, 1, 1, f"服务月报 {month}").font = Font(name=FONT, size=16, bold=True)
    put(ws, 2, 1, f"本月受理投诉 {len(figures['cases'])} 件；重复投诉 {len(figures['repeat'])} 件；"
                  f"未办结 {len(figures['open'])} 件。")
    write_table(ws, ["指标", "分子", "分母", "比率", "口径"],
                [[r.name, r.numerator, r.denominator, r.value, r.definition] for r in figures["rates"]],
                {"指标": 20, "口径": 50}, start_row=4)
    for row in range(5, 5 + len(figures["rates"])):
        ws.cell(row, 4).number_format = "0.00%"
    print_setup(ws, None, 5)


def _chart(chart, title: str):
    """A chart of CHART_CM: its title, the count axis titled 件数, no legend for its one series, both
    axes shown (openpyxl 3.1 leaves them out, and Excel then hides them)."""
    chart.title, chart.y_axis.title, chart.legend = title, "件数", None
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.width, chart.height = CHART_CM
    return chart


def _place_chart(ws, chart, row: int) -> None:
    """A chart on a page of its own: a page break after `row`, the chart one row below it (anchored
    right at the break, LibreOffice draws its edge on the page before)."""
    ws.row_breaks.append(Break(id=row))
    ws.add_chart(chart, f"A{row + 2}")


def _counts_sheet(book, month: str, figures: dict) -> None:
    """One table per dimension, one under the other; the chart of the units on the page after them."""
    ws = book.create_sheet("投诉数量")
    put(ws, 1, 1, f"投诉数量 {month}").font = Font(name=FONT, size=14, bold=True)
    row, unit_rows = 3, None
    for dimension, counts in figures["by"].items():
        write_table(ws, [dimension, "件数"], counts, {dimension: 30, "件数": 10}, start_row=row)
        if dimension == "责任部门" and counts:
            unit_rows = (row, row + len(counts))
        row += len(counts) + 3
    ws.freeze_panes = None
    ws.auto_filter.ref = None
    print_setup(ws, None, 2)
    if unit_rows:
        chart = _chart(BarChart(), "各责任部门投诉件数")
        chart.add_data(Reference(ws, min_col=2, min_row=unit_rows[0], max_row=unit_rows[1]), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=unit_rows[0] + 1, max_row=unit_rows[1]))
        _place_chart(ws, chart, row)


def _trend_sheet(book, figures: dict) -> None:
    """The 12 months' counts and their line chart below them, on one page."""
    ws = book.create_sheet("趋势")
    last = write_table(ws, ["月份", "投诉件数"], [list(t) for t in figures["trend"]], {"月份": 12})
    chart = _chart(LineChart(), "近12个月投诉件数")
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    chart.series[0].smooth = False          # a count per month: straight segments, never below zero
    label = ParagraphProperties(defRPr=CharacterProperties())             # the months at 45°, never wrapped
    chart.x_axis.txPr = RichText(bodyPr=RichTextProperties(rot=-2700000, vert="horz"),
                                 p=[Paragraph(pPr=label, endParaRPr=CharacterProperties())])
    ws.add_chart(chart, f"A{last + 2}")


def _case_sheet(book, title: str, heading: str, cases: list) -> None:
    headers = ["投诉编号", "受理时间", "客户姓名", "联系电话", "状态", "责任部门", "重大依据"]
    write_table(book.create_sheet(title), headers,
                [[c["number"], datetime.fromisoformat(c["received_at"]), c["facts"].get("customer_name"),
                  c["facts"].get("phone"), c["state"].status, c["state"].unit,
                  "；".join(c["state"].major_reasons)] for c in cases],
                title=f"{heading}（{len(cases)} 件）")


def report_path(ws, month: str) -> Path:
    return ws.reports / f"服务月报-{month}.xlsx"


def write_report(ws, month: str, now: datetime) -> tuple[Path, dict]:
    figures = month_figures(ws.journal, ws.policy, month, now)
    book = openpyxl.Workbook()
    book.remove(book.active)
    _summary_sheet(book, month, figures)
    _counts_sheet(book, month, figures)
    _trend_sheet(book, figures)
    _case_sheet(book, "重复投诉", f"重复投诉 {month}", figures["repeat"])
    _case_sheet(book, "未办结", f"未办结投诉 {month}", figures["open"])
    add_score_sheets(book, figures["scores"])
    target = report_path(ws, month)
    save_atomically(book, target)
    return target, figures
