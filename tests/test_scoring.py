"""Seed §10 scoring with hand-worked figures."""
from datetime import datetime, timedelta

import openpyxl
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import APPEAL, FEEDBACK, INTAKE

UNIT = "客户创值赋能群"


def case(form, i, received, responsibility, fed_back, severity="非重大", unit=UNIT):
    """An intake and its feedback for a distinct customer and target (no rule 8/9)."""
    who = dict(customer_name=f"客户{i}", phone=f"1380000{i:04d}", target=f"对象{i}", received_at=received,
               content=f"投诉内容{i}")
    intake = form(INTAKE, dict(INTAKE_VALUES, severity=severity, **who))
    feedback = form(FEEDBACK, dict(FEEDBACK_VALUES, number=f"TS202611{i:04d}", responsibility=responsibility,
                                   severity=severity, unit=unit, feedback_date=fed_back, **who))
    return intake, feedback


def month_of_cases(form):
    """4 responsible and 6 non-responsible on time, 1 major responsible fed back late."""
    files = []
    for i in range(1, 11):
        received = datetime(2026, 11, i, 9, 0)
        files += case(form, i, received, "责任" if i <= 4 else "非责任", received + timedelta(days=1))
    # own channel, 重大: investigation due 11-13, handling 11-15; fed back 11-18
    files += case(form, 11, datetime(2026, 11, 11, 9, 0), "责任", datetime(2026, 11, 18, 10, 0), "重大")
    return files


def test_a_month_scores_8_3_with_lines_summing_to_it(tousu, form, workspace):
    files = month_of_cases(form)
    tousu("process", *files[0::2])
    tousu("process", *files[1::2])
    code, lines, _ = tousu("score", "--month", "2026-11")
    assert code == 0
    units = lines[0]["units"]
    assert [u["unit"] for u in units] == [UNIT]
    unit = units[0]
    # major 3 + responsible 4 + 0.5 (4th at 1.5) + non-responsible 0.3 (6th) + late 0.5 = 8.3
    assert (unit["major"], unit["responsible"], unit["non_responsible"], unit["late"], unit["points"]) == \
        (1, 4, 6, 1, 8.3)
    assert round(sum(line["points"] for line in unit["lines"]), 2) == 8.3
    by_case = {}
    for line in unit["lines"]:
        by_case.setdefault(line["number"], []).append(line["points"])
    assert by_case["TS2026110004"] == [1.5] and by_case["TS2026110003"] == [1]
    assert by_case["TS2026110005"] == [0] and by_case["TS2026110010"] == [0.3]
    assert by_case["TS2026110011"] == [3, 0.5]
    sheet = openpyxl.load_workbook(workspace / "reports" / "考核明细-2026-11.xlsx")
    assert [c.value for c in sheet["考核汇总"][2]] == [UNIT, 1, 4, 6, 1, 8.3]
    assert sum(row[3].value for row in sheet["扣分明细"].iter_rows(min_row=2)) == 8.3


def test_missing_feedback_is_late_only_once_its_deadline_passed_in_the_period(tousu, form):
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, unit=UNIT, received_at=datetime(2026, 10, 20, 9))),
          form(INTAKE, dict(INTAKE_VALUES, unit=UNIT, customer_name="乙", phone="13600000000",
                            received_at=datetime(2026, 10, 30, 9))))
    code, lines, _ = tousu("score", "--month", "2026-10")
    unit = lines[0]["units"][0]
    # 10-20: investigation due 10-23 -> missing at 10-31: late; 10-30: due 11-02, not yet late in October
    assert (unit["unit"], unit["late"], unit["points"]) == (UNIT, 1, 0.5)
    assert [line["number"] for line in unit["lines"]] == ["TS2026100001"]
    assert "期末仍未反馈" in unit["lines"][0]["reason"]


def test_appeals_upheld_cost_the_unit_and_changed_cost_the_office(tousu, form):
    first = case(form, 1, datetime(2026, 11, 20, 9), "责任", None)
    second = case(form, 2, datetime(2026, 11, 20, 10), "责任", None)
    tousu("process", first[0], second[0])
    tousu("process", *[form(FEEDBACK, dict(FEEDBACK_VALUES, number=f"TS202611{i:04d}", customer_name=f"客户{i}",
                                           phone=f"1380000{i:04d}", target=f"对象{i}", content=f"投诉内容{i}",
                                           received_at=datetime(2026, 11, 20, 8 + i), unit=UNIT,
                                           feedback_date=datetime(2026, 11, 20, 15 + i), **REVIEWED))
                       for i in (1, 2)])
    tousu("process", form(APPEAL, dict(number="TS2026110001", unit=UNIT, appeal_date="2026-11-21 08:00",
                                       reason="有异议", ruling="维持")),
          form(APPEAL, dict(number="TS2026110002", unit=UNIT, appeal_date="2026-11-21 08:10",
                            reason="客户自身原因", ruling="变更", new_class="非责任")))
    code, lines, _ = tousu("score", "--month", "2026-11")
    units = {u["unit"]: u for u in lines[0]["units"]}
    # TS..01: responsible 1 + upheld appeal 0.5; TS..02 re-scored as non-responsible (0); office loses 1
    assert (units[UNIT]["responsible"], units[UNIT]["non_responsible"], units[UNIT]["points"]) == (1, 1, 1.5)
    assert (units["服务管理办公室"]["points"], units["服务管理办公室"]["lines"][0]["number"]) == (1.0, "TS2026110002")


def test_a_malformed_month_is_a_usage_error(tousu):
    for command in ("score", "report"):
        code, _, output = tousu(command, "--month", "2026/11")
        assert code == 2 and "YYYY-MM" in output
