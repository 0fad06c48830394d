"""Values as clerks type them (issue 12): 客户评价 phrases, 投诉编号 placeholders and foreign numbers,
dates with 半/刻 and Chinese numerals, a PC clock a little ahead, and the 承办单位 found from 投诉对象."""
from datetime import datetime

import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED, archived_files
from hypothesis import given
from hypothesis import strategies as st

from toolkit.clock import Clock
from toolkit.errors import PolicyError
from toolkit.forms.kinds import CALLBACK, FEEDBACK
from toolkit.forms.values import ComplaintNumber, Evaluation, ValueIssue, parse_datetime
from toolkit.policy import load_policy
from toolkit.process import check
from toolkit.workspace import Workspace

REF = datetime(2026, 11, 21, 9, 0)


# ------------------------------------------------------------------ 客户评价
@pytest.mark.parametrize("typed, meaning", [
    ("满意", "满意"),
    ("非常满意", "满意"),
    ("很满意", "满意"),
    ("十分满意", "满意"),
    ("客户表示满意", "满意"),
    ("客户对处理结果满意", "满意"),
    ("认可", "满意"),
    ("客户认可处理结果", "满意"),
    ("满意☑ 基本满意□ 不满意□", "满意"),
    ("☑满意 □基本满意 □不满意", "满意"),
    ("基本满意", "基本满意"),
    ("比较满意", "基本满意"),               # a qualified 满意 is not full satisfaction
    ("还算满意", "基本满意"),
    ("基本认可", "基本满意"),
    ("满意□ 基本满意√ 不满意□", "基本满意"),
    ("不满意", "不满意"),
    ("不太满意", "不满意"),                 # a negation before 满意, whatever stands between
    ("客户表示不太满意", "不满意"),
    ("不是很满意", "不满意"),
    ("很不满意", "不满意"),
    ("非常不满意", "不满意"),
    ("不满", "不满意"),
    ("客户仍有意见", "不满意"),
    ("对处理结果有异议", "不满意"),
    ("不认可", "不满意"),
    ("满意□ 基本满意□ 不满意☑", "不满意"),
    ("满意☑ 不满意□", "满意"),
    ("客户不太认可处理结果", "不满意"),       # found in review: 认可 negated like 满意
    ("满意度低", "不满意"),
    ("满意度较差", "不满意"),
    ("满意度高", "满意"),
])
def test_evaluation_phrases(typed, meaning):
    assert Evaluation().convert(typed, None) == meaning


@pytest.mark.parametrize("typed", [
    "一般", "还行", "还可以", "未接通", "没有意见",            # says none of the three
    "没有不满",                                              # a double negation says too little
    "对态度满意，对结果不满意",                              # says two
    "满意☑ 不满意☑",                                         # two boxes ticked
    "满意度一般",                                           # found in review
])
def test_ambiguous_evaluations_ask_for_a_tick(typed):
    """Each of these says neither one answer nor another."""
    with pytest.raises(ValueIssue, match="请在 满意/基本满意/不满意 中勾选一项"):
        Evaluation().convert(typed, None)


def test_no_box_ticked_is_blank():
    assert Evaluation().convert("满意□ 基本满意□ 不满意□", None) is None


def _callback_typed(form, evaluation: str):
    """A 回访记录单 whose 客户评价 (B5) holds what the clerk typed instead of ticks."""
    path = form(CALLBACK, {"number": "TS2026110001", "callback_date": datetime(2026, 11, 21, 8, 30),
                           "caller": "周洁", "method": "电话", "notes": "回访"})
    book = openpyxl.load_workbook(path)
    assert book.active["A5"].value == "客户评价"
    book.active["B5"] = evaluation
    book.save(path)
    return path


def test_a_callback_read_as_not_satisfied_reopens_and_an_unclear_one_is_refused(tousu, intake, form, workspace):
    tousu("process", intake())
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, **REVIEWED)))        # handled, so a callback counts
    code, lines, _ = tousu("process", _callback_typed(form, "一般"))
    assert code == 1 and lines[0]["problems"] == [{
        "level": "error", "field": "客户评价", "cell": "B5",
        "message": "「一般」无法判断是满意、基本满意还是不满意，请在 满意/基本满意/不满意 中勾选一项（☑ 或 √）"}]
    code, lines, _ = tousu("process", _callback_typed(form, "客户表示不太满意"))
    assert code == 0
    state = Workspace.open(workspace).journal.case("TS2026110001")["state"]
    assert (state["evaluation"], state["status"]) == ("不满意", "重新处理")


# ------------------------------------------------------------------ 投诉编号
@pytest.mark.parametrize("typed", ["/", "／", "—", "——", "-", "无", "暂无", "待编号", "未编号", "N/A", "null", " ． ", "0", "000"])
def test_placeholders_are_blank(typed):
    assert ComplaintNumber().convert(typed, None) is None


@pytest.mark.parametrize("typed, folded", [("TS2026110099", "TS2026110099"), ("ＴＳ２０２６１１００９９", "TS2026110099"),
                                           ("TS 2026 1100 99", "TS2026110099"), ("ABC", "ABC")])
def test_numbers_are_folded(typed, folded):
    assert ComplaintNumber().convert(typed, None) == folded


def _problem(line, field="投诉编号"):
    return [(p["level"], p["cell"], p["message"]) for p in line["problems"] if p["field"] == field]


@pytest.mark.parametrize("placeholder", ["/", "—", "无", "待编号"])
def test_a_placeholder_number_is_blank_with_a_defect(tousu, intake, placeholder):
    code, lines, _ = tousu("process", intake(number=placeholder))
    assert code == 0 and lines[0]["number"] == "TS2026110001"
    assert _problem(lines[0]) == [("defect", "B4", f"投诉编号「{placeholder}」不是编号，已视为未填写，由系统编号；新投诉请留空。")]


def test_a_number_tousu_never_issued_does_not_move_the_sequence(tousu, intake, workspace):
    tousu("process", intake())                                                     # TS2026110001
    _, lines, _ = tousu("process", intake(number="TS2026110099", customer_name="乙", phone="13600000000"),
                        intake(customer_name="丙", phone="13700000000"),
                        intake(number="ＴＳ２０２６１１００９８", customer_name="丁", phone="13900000000"))
    assert [line["number"] for line in lines] == ["TS2026110002", "TS2026110003", "TS2026110004"]
    assert _problem(lines[0]) == [("defect", "B4", ("投诉编号「TS2026110099」不是本系统编发的编号，已另行编号 "
                                                    "TS2026110002，原编号已记录。"))]
    assert _problem(lines[1]) == []
    journal = Workspace.open(workspace).journal
    assert journal.case("TS2026110002")["facts"]["original_number"] == "TS2026110099"
    assert journal.case("TS2026110004")["facts"]["original_number"] == "TS2026110098"
    assert journal.case("TS2026110099") is None


def test_the_clerks_own_file_with_the_foreign_number_sent_again_is_the_same_case(tousu, intake, workspace):
    tousu("process", intake(number="TS2026110099"))
    _, lines, _ = tousu("process", intake(number="TS2026110099", demand="补充：要求上门核表"),
                        intake(number="TS2026110099", customer_name="乙", phone="13600000000"))
    assert [line["number"] for line in lines] == ["TS2026110001", "TS2026110002"]
    assert "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v2.xlsx" in archived_files(workspace)


def test_a_lowercase_number_tousu_issued_is_a_resubmission(tousu, intake):
    tousu("process", intake())
    code, lines, _ = tousu("process", intake(number="ts2026110001", demand="补充：要求上门核表"))
    assert code == 0 and lines[0]["number"] == "TS2026110001" and _problem(lines[0]) == []
    code, lines, _ = tousu("process", intake(customer_name="乙", phone="13600000000"))
    assert lines[0]["number"] == "TS2026110002"


def test_a_followup_number_is_folded_like_an_intakes(tousu, intake, form):
    tousu("process", intake())
    callback = {"number": "ｔｓ２０２６１１０００１", "callback_date": datetime(2026, 11, 21, 8, 30), "caller": "周洁",
                "method": "电话", "evaluation": "满意"}
    code, lines, _ = tousu("process", form(CALLBACK, callback))
    assert code == 0 and lines[0]["number"] == "TS2026110001"


def test_a_typo_on_a_december_intake_never_makes_a_five_digit_number(tousu, intake, monkeypatch):
    monkeypatch.setenv("TOUSU_NOW", "2026-12-02T09:00:00")
    _, lines, _ = tousu("process", intake(number="TS2026129999", received_at=datetime(2026, 12, 1, 10)),
                        intake(customer_name="乙", phone="13600000000", received_at=datetime(2026, 12, 1, 11)))
    assert [line["number"] for line in lines] == ["TS2026120001", "TS2026120002"]


def test_a_malformed_number_is_refused_on_every_form(tousu, intake, form):
    code, lines, _ = tousu("process", intake(number="ABC"))
    assert code == 1 and _problem(lines[0]) == [("error", "B4", ("投诉编号「ABC」格式不对（应形如 TS2026110001）。"
                                                                 "新投诉请留空，由系统编号。"))]
    callback = {"number": "待编号", "callback_date": datetime(2026, 11, 21, 8, 30), "caller": "周洁", "method": "电话",
                "evaluation": "满意"}
    code, lines, _ = tousu("process", form(CALLBACK, callback))
    assert code == 1 and _problem(lines[0]) == [
        ("error", "B2", "「投诉编号」未填写（/、无、待编号 等视为未填写），请填写受理回执上的投诉编号")]


# ------------------------------------------------------------------ dates and times
@pytest.mark.parametrize("typed, moment", [
    ("2026年11月3日下午3点半", datetime(2026, 11, 3, 15, 30)),
    ("2026年11月3日下午3点一刻", datetime(2026, 11, 3, 15, 15)),
    ("2026年11月3日下午3点三刻", datetime(2026, 11, 3, 15, 45)),
    ("2026-11-03 3点1刻", datetime(2026, 11, 3, 3, 15)),
    ("11月3日九点", datetime(2026, 11, 3, 9, 0)),
    ("11月3日十点二十分", datetime(2026, 11, 3, 10, 20)),
    ("11月3日十点零五分", datetime(2026, 11, 3, 10, 5)),
    ("11月3日下午三点", datetime(2026, 11, 3, 15, 0)),
    ("十一月三日", datetime(2026, 11, 3, 0, 0)),
    ("十一月三日上午十一点半", datetime(2026, 11, 3, 11, 30)),
    ("二〇二六年十一月二十日", datetime(2026, 11, 20, 0, 0)),
    ("11月3日晚上8点", datetime(2026, 11, 3, 20, 0)),
    ("11月3日夜里2点", datetime(2026, 11, 3, 2, 0)),
    ("11月3日中午12点", datetime(2026, 11, 3, 12, 0)),
    ("11月3日中午1点", datetime(2026, 11, 3, 13, 0)),
    ("11月3日下午3点整", datetime(2026, 11, 3, 15, 0)),
    ("11月3日下午两点", datetime(2026, 11, 3, 14, 0)),
    ("2026/11/3 14:30", datetime(2026, 11, 3, 14, 30)),
])
def test_dates_as_clerks_write_them(typed, moment):
    assert parse_datetime(typed, REF) == (moment, moment.time() != datetime.min.time())


CHINESE_DIGITS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    """How a clerk writes 0..59 in words: 九, 十, 十五, 二十, 二十三."""
    tens, units = divmod(n, 10)
    if not tens:
        return CHINESE_DIGITS[units]
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[units] if units else "")


@given(st.integers(0, 23), st.integers(0, 59))
def test_any_time_in_chinese_numerals(hour, minute):
    typed = f"十一月三日{_chinese(hour)}点" + (f"{_chinese(minute)}分" if minute else "")
    assert parse_datetime(typed, REF) == (datetime(2026, 11, 3, hour, minute), True)


@pytest.mark.parametrize("typed", ["11月3日下午3点五刻", "11月3日二十五点", "11月3日3点半半"])
def test_impossible_times_are_refused(typed):
    with pytest.raises(ValueIssue):
        parse_datetime(typed, REF)


@pytest.mark.parametrize("received, status", [
    (datetime(2026, 11, 21, 9, 10), "accepted"),      # the PC clock 10 minutes ahead of the server
    (datetime(2026, 11, 21, 9, 15), "accepted"),
    (datetime(2026, 11, 21, 9, 16), "refused"),
])
def test_a_receipt_time_a_little_ahead_of_the_clock_is_not_future(intake, received, status):
    receipt = check(intake(received_at=received), load_policy(), Clock(REF))
    assert receipt.status == status
    assert [p.field for p in receipt.problems if p.level == "error"] == ([] if status == "accepted" else ["受理时间"])


# ------------------------------------------------------------------ 承办单位
@pytest.mark.parametrize("target, unit", [
    ("抄表班", "客户创值赋能群"), ("营业厅业务受理窗口", "客户创值赋能群"), ("户内燃气具维修", "客户创值赋能群"),
    ("管网抢修队", "管网运营赋能群"), ("小区停气", "管网运营赋能群"), ("施工队", "建设交付赋能群"),
    ("开户报装", "建设交付赋能群"), ("工商户大客户经理", "商务与大客户赋能群"), ("综合赋能群 车队", "综合赋能群"),
    ("门卫", None), (None, None),
])
def test_unit_for_target(target, unit):
    assert load_policy().unit_for_target(target) == unit


def test_unit_keywords_must_name_units(tmp_path):
    override = tmp_path / "policy.toml"
    override.write_text('[unit_keywords]\n"抢修中心" = ["抢修"]\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="unit_keywords.抢修中心"):
        load_policy(override)
    override.write_text('[units]\nnames = ["抢修中心"]\n[unit_keywords]\n"抢修中心" = ["抢修"]\n'
                        '"业务发展群" = []\n"商务与大客户赋能群" = []\n"建设交付赋能群" = []\n"管网运营赋能群" = []\n'
                        '"客户创值赋能群" = []\n"财务赋能群" = []\n"综合赋能群" = []\n"服务管理办公室" = []\n',
                        encoding="utf-8")
    renamed = load_policy(override)
    assert (renamed.unit_for_target("管网抢修"), renamed.unit_for_target("管网运营赋能群")) == ("抢修中心", None)


def test_the_unit_comes_from_the_form_else_the_target_else_a_defect(tousu, intake, workspace):
    _, lines, _ = tousu("process", intake(target="管网抢修队"), intake(customer_name="乙", phone="13600000000",
                                                                   target="管网抢修队", unit="综合赋能群"),
                        intake(customer_name="丙", phone="13700000000", target="小区门卫"))
    journal = Workspace.open(workspace).journal
    assert [journal.case(line["number"])["facts"]["unit"] for line in lines] == ["管网运营赋能群", "综合赋能群", None]
    assert [_problem(line, "承办单位") for line in lines] == [[], [], [(
        "defect", "D8", "未指定承办单位：请填写承办单位，或在 policy.toml 的 [unit_keywords] 中为该投诉对象补充关键词。")]]


def test_a_transfer_without_its_required_date_says_which_limits_were_used(intake):
    receipt = check(intake(channel="12345市民热线"), load_policy(), Clock(REF))
    assert [(p.field, p.message) for p in receipt.problems] == [(
        "要求办结日期", ("政府/媒体/主管部门批转的投诉须填写要求办结日期（批转单位要求的时间）；"
                         "未填写要求办结日期，已按「自有渠道」时限计算，请补充。"))]


def test_intake_values_need_no_unit(intake):
    assert check(intake(), load_policy(), Clock(REF)).problems == []
    assert INTAKE_VALUES["target"] == "抄表班"
