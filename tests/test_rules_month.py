"""Issue 12 items 12 and 8 (SPEC §7): a late line is booked in the month in which the deadline passed,
the class in the month of 受理时间; a case is charged for lateness once, and its line lists every stage
overdue by then; a case with no unit is listed under 「未指定承办单位」 and charged to nobody. November and
December of one office worked out by hand from the 附件3 table (own channel, 非重大: 3 + 3 natural days,
day 0 = date of 受理时间, ending 23:59:59)."""
from datetime import datetime

import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.scoring import UNASSIGNED, score_month, warnings
from toolkit.workspace import Workspace

UNIT = "客户创值赋能群"
LATE = "未在时限内反馈（{}），每起扣0.5分（办法10.1备注）"


def who(i: int, received: datetime) -> dict:
    return dict(customer_name=f"客户{i}", phone=f"1380000{i:04d}", target=f"对象{i}", content=f"投诉内容{i}",
                received_at=received)


@pytest.fixture
def office(tousu, form, monkeypatch):
    """Everything arrives on 12-31; the cases, numbered in order of 受理时间 within each month:
    TS2026110001 A received 11-20 09:00 (due 11-23 / 11-26), never fed back
    TS2026110002 F received 11-25 09:00 (due 11-28 / 12-01), no unit anywhere, never fed back
    TS2026110003 C received 11-27 09:00 (due 11-30 / 12-03), 责任, fed back 12-03 10:00
    TS2026110004 D received 11-28 09:00 (due 12-01 / 12-04), 责任, plan 12-01 09:00 promising 12-10,
                 completed 12-12 09:00
    TS2026110005 B received 11-29 10:00 (due 12-02 / 12-05), never fed back
    TS2026120001 E received 12-01 09:00 (due 12-04 / 12-07), 非责任, fed back 12-02 09:00"""
    monkeypatch.setenv("TOUSU_NOW", "2026-12-31T12:00:00")
    moments = {1: datetime(2026, 11, 20, 9), 2: datetime(2026, 11, 25, 9), 3: datetime(2026, 11, 27, 9),
               4: datetime(2026, 11, 28, 9), 5: datetime(2026, 11, 29, 10), 6: datetime(2026, 12, 1, 9)}
    tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, **who(i, at), **({} if i == 2 else {"unit": UNIT})))
                       for i, at in moments.items()])

    def feedback(i, number, fed_back, **changes):
        return form(FEEDBACK, dict(FEEDBACK_VALUES, **who(i, moments[i]), number=number, unit=UNIT,
                                   feedback_date=fed_back, **changes))
    tousu("process", feedback(3, "TS2026110003", "2026-12-03 10:00"),
          feedback(4, "TS2026110004", "2026-12-01 09:00", completion="未办结", promised_date="2026-12-10",
                   result="已制定方案，待配件到货。"),
          feedback(6, "TS2026120001", "2026-12-02 09:00", responsibility="非责任"))
    tousu("process", feedback(4, "TS2026110004", "2026-12-12 09:00"))


def units(tousu, month):
    code, lines, _ = tousu("score", "--month", month)
    assert code == 0
    return {u["unit"]: u for u in lines[0]["units"]}


def test_november(office, tousu):
    scores = units(tousu, "2026-11")
    assert list(scores) == [UNIT, UNASSIGNED]
    unit = scores[UNIT]
    # C and D: 责任, the 1st and 2nd of the month, 1 point each; A: both stages missing at 11-30;
    # C: 调查 due 11-30 fed back 12-03 (its 处理 of 12-03 was on time); B's deadlines pass in December
    assert (unit["major"], unit["responsible"], unit["non_responsible"], unit["late"], unit["points"]) == \
        (0, 2, 0, 2, 3.0)
    assert unit["charged"] is True
    assert [(line["number"], line["points"]) for line in unit["lines"]] == [
        ("TS2026110001", 0.5), ("TS2026110003", 1.0), ("TS2026110003", 0.5), ("TS2026110004", 1.0)]
    assert unit["lines"][0]["reason"] == LATE.format(
        "调查反馈时限2026-11-23 23:59，期末仍未反馈；处理反馈时限2026-11-26 23:59，期末仍未反馈")
    assert unit["lines"][2]["reason"] == LATE.format("调查反馈时限2026-11-30 23:59，实际反馈2026-12-03 10:00")
    # F: no unit; its 调查 (11-28) is overdue at 11-30, its 处理 (12-01) not yet: listed, charged to nobody
    unassigned = scores[UNASSIGNED]
    assert (unassigned["late"], unassigned["points"], unassigned["charged"]) == (1, 0.5, False)
    assert unassigned["lines"] == [{"number": "TS2026110002", "points": 0.5,
                                    "reason": LATE.format("调查反馈时限2026-11-28 23:59，期末仍未反馈")}]


def test_december(office, tousu):
    scores = units(tousu, "2026-12")
    assert list(scores) == [UNIT]           # F was charged in November (once per case), A as well
    unit = scores[UNIT]
    # B (received 11-29): both deadlines passed in December; D: 承诺办结 12-10 completed 12-12;
    # E: 非责任, the 1st of the month, 0 points
    assert (unit["major"], unit["responsible"], unit["non_responsible"], unit["late"], unit["points"]) == \
        (0, 0, 1, 2, 1.0)
    assert [(line["number"], line["points"]) for line in unit["lines"]] == [
        ("TS2026110004", 0.5), ("TS2026110005", 0.5), ("TS2026120001", 0.0)]
    assert [line["reason"] for line in unit["lines"][:2]] == [
        LATE.format("承诺办结时限2026-12-10 23:59，实际反馈2026-12-12 09:00"),
        LATE.format("调查反馈时限2026-12-02 23:59，期末仍未反馈；处理反馈时限2026-12-05 23:59，期末仍未反馈")]


def test_a_month_scored_before_its_end_books_what_has_passed_so_far(office, workspace):
    ws = Workspace.open(workspace)
    early = {s.unit: s for s in score_month(ws.journal, ws.policy, "2026-12", datetime(2026, 12, 3, 12))}
    # on 12-03 12:00 only B's 调查 (12-02) has passed in December; D's promise is still ahead
    assert [(line.number, line.reason) for line in early[UNIT].lines if line.points == 0.5] == [
        ("TS2026110005", LATE.format("调查反馈时限2026-12-02 23:59，期末仍未反馈"))]


def test_unassigned_points_come_with_a_warning(office, workspace):
    ws = Workspace.open(workspace)
    scores = score_month(ws.journal, ws.policy, "2026-11", datetime(2026, 12, 31, 12))
    assert warnings(scores) == [("1 件投诉未指定承办单位（TS2026110002），其扣分 0.5 分仅列示、未计入任何单位；"
                                 "请在受理记录单填写承办单位或在反馈单填写责任部门。")]
    assert warnings(score_month(ws.journal, ws.policy, "2026-12", datetime(2026, 12, 31, 12))) == []


def test_a_missed_promise_is_a_lapse_of_its_own_charged_in_its_month(tousu, form, monkeypatch):
    """Found in review: investigation fed back late by a plan (charged in November), then the promised
    completion (12-01) never reported — a second lapse, charged in December."""
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit="客户创值赋能群", received_at=datetime(2026, 11, 10, 9))))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, received_at=datetime(2026, 11, 10, 9), completion="未办结",
                                         promised_date="2026-12-01", result="已制定方案，待配件到货。",
                                         feedback_date=datetime(2026, 11, 14, 9), **REVIEWED)))
    monkeypatch.setenv("TOUSU_NOW", "2026-12-31T12:00:00")
    november, december = _late_lines(tousu, "2026-11"), _late_lines(tousu, "2026-12")
    # own channel 非重大: investigation due 11-13, fed back 11-14 -> late; the plan met handling (due 11-16)
    assert november == [("TS2026110001", 0.5, "调查反馈时限2026-11-13 23:59，实际反馈2026-11-14 09:00")]
    assert december == [("TS2026110001", 0.5, "承诺办结时限2026-12-01 23:59，期末仍未反馈")]


def _late_lines(tousu, month):
    _, lines, _ = tousu("score", "--month", month)
    return [(line["number"], line["points"], line["reason"].split("（", 1)[1].split("）")[0])
            for unit in lines[0]["units"] for line in unit["lines"] if "未在时限内反馈" in line["reason"]]
