"""服务月报 (SPEC §9): the rates match their parts, counts by dimension, charts present."""
from datetime import datetime

import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import CALLBACK, FEEDBACK, INTAKE
from toolkit.policy import load_policy


def test_report_rates_match_their_parts(tousu, form, workspace, tmp_path):
    second = dict(INTAKE_VALUES, customer_name="乙", phone="13600000000", channel="微信公众号",
                  received_at=datetime(2026, 11, 10, 9))
    bad = tmp_path / "旧表.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    tousu("process", form(INTAKE, INTAKE_VALUES), form(INTAKE, second),
          form(INTAKE, dict(INTAKE_VALUES, customer_name="丙", phone="12345", target="窗口", channel="微信")), bad)
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, **REVIEWED)),
          form(FEEDBACK, dict(FEEDBACK_VALUES, number="TS2026110002", customer_name="乙", phone="13600000000",
                              channel="微信公众号", received_at=datetime(2026, 11, 10, 9),
                              feedback_date=datetime(2026, 11, 20, 9), business="安检", **REVIEWED)))
    tousu("process", form(CALLBACK, dict(number="TS2026110001", callback_date="2026-11-21 08:40", caller="周",
                                         method="电话", evaluation="满意", notes="好")),
          form(CALLBACK, dict(number="TS2026110002", callback_date="2026-11-21 08:45", caller="周",
                              method="电话", evaluation="不满意", notes="仍不满")))
    code, lines, _ = tousu("report", "--month", "2026-11")
    assert code == 0
    rates = lines[0]["rates"]
    # handled: TS..01 on time, TS..02 fed back 11-20 against a 11-13/11-16 deadline -> 1/2
    assert rates["投诉处理及时率"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert rates["投诉处理满意率"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    # 8 forms received (3 intakes, 1 refused, 2 feedbacks, 2 callbacks); 丙's intake has a phone defect
    assert rates["投诉信息维护合格率"] == {"numerator": 6, "denominator": 8, "rate": 0.75}
    assert (lines[0]["cases"], lines[0]["open"], lines[0]["repeat"]) == (3, 2, 0)   # TS..01 closed by 满意
    book = openpyxl.load_workbook(workspace / "reports" / "服务月报-2026-11.xlsx")
    assert book.sheetnames == ["概要", "投诉数量", "趋势", "重复投诉", "未办结", "考核汇总", "扣分明细", "责任人考核参考"]
    summary = [[c.value for c in row] for row in book["概要"].iter_rows(min_row=5, max_row=7)]
    assert [row[:4] for row in summary] == [["投诉处理及时率", 1, 2, 0.5], ["投诉处理满意率", 1, 2, 0.5],
                                            ["投诉信息维护合格率", 6, 8, 0.75]]
    counts = {row[0].value: row[1].value for row in book["投诉数量"].iter_rows() if isinstance(row[1].value, int)}
    assert counts["客服热线"] == 1 and counts["微信公众号"] == 2 and counts["安检"] == 1     # 微信 is 微信公众号
    assert "微信" not in counts
    assert len(book["投诉数量"]._charts) == 1 and len(book["趋势"]._charts) == 1
    charts = book["投诉数量"]._charts + book["趋势"]._charts
    assert all(c.x_axis.delete is False and c.y_axis.delete is False for c in charts)   # Excel shows the axes
    trend = [[c.value for c in row] for row in book["趋势"].iter_rows(min_row=2)]
    assert trend[0] == ["2025-12", 0] and trend[-1] == ["2026-11", 3]
    assert [row[0].value for row in book["考核汇总"].iter_rows(min_row=2)] == ["客户创值赋能群", "未指定承办单位（仅列示，不计入）"]


@pytest.mark.parametrize(("text", "name"), [
    ("微信", "微信公众号"), ("公众号", "微信公众号"), ("微信公众号", "微信公众号"), (" 微 信 ", "微信公众号"),
    ("窗口", "营业厅"), ("营业厅", "营业厅"), ("客服热线", "客服热线"), ("微信群", "微信群"), (None, ""),
])
def test_channel_names_that_count_as_one(text, name):
    assert load_policy().channel_name(text) == name
