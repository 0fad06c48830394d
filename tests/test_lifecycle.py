"""The case after its intake: feedback (附件2), callback, extension, appeal; status and deadlines
worked out by hand from the seed (附件3, §5–§7) and SPEC §5, §12."""
from datetime import date, datetime

import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED, archived_files

from toolkit.forms.kinds import APPEAL, CALLBACK, EXTENSION, FEEDBACK, INTAKE
from toolkit.workspace import Workspace


def state(workspace, number="TS2026110001"):
    return Workspace.open(workspace).journal.case(number)["state"]


@pytest.fixture
def registered(tousu, form):
    """One own-channel 非重大 intake received 2026-11-20 15:30 -> TS2026110001."""
    code, lines, _ = tousu("process", form(INTAKE, INTAKE_VALUES))
    assert lines[0]["number"] == "TS2026110001"


def feedback(form, suffix=".xlsx", **changes):
    return form(FEEDBACK, {**FEEDBACK_VALUES, **changes}, suffix)


def test_feedback_without_review_waits_for_review_then_v2_is_reviewed(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", feedback(form))
    assert code == 0 and lines[0]["form"] == "feedback" and lines[0]["problems"] == []
    # handled 2026-11-21 (反馈日期) + 3 natural days -> callback due 11-24; no judgement yet -> no appeal window
    assert lines[0]["deadlines"] == {"investigation": "2026-11-23T23:59:59", "handling": "2026-11-26T23:59:59",
                                     "callback": "2026-11-24T23:59:59", "appeal": None}
    assert state(workspace)["status"] == "待审核"
    code, lines, _ = tousu("process", feedback(form, ".docx", **REVIEWED))
    assert lines[0]["deadlines"]["appeal"] == "2026-11-24T23:59:59"   # judgement fed back 11-21 + 3
    current = state(workspace)
    assert (current["status"], current["responsibility"], current["unit"]) == ("待回访", "责任", "客户创值赋能群")
    assert current["met"] == {"investigation": "2026-11-21T08:30:00", "handling": "2026-11-21T08:30:00"}
    folder = "archive/2026/11/TS2026110001/"
    assert {folder + "TS2026110001-调查处理反馈单-v1.xlsx", folder + "TS2026110001-调查处理反馈单-v2.docx"} \
        <= set(archived_files(workspace))


def test_later_version_supersedes_the_earlier(registered, tousu, form, workspace):
    tousu("process", feedback(form, responsibility="责任"))
    tousu("process", feedback(form, responsibility="非责任", cause="客户自身原因：表前阀门私改。"))
    assert state(workspace)["responsibility"] == "非责任"


def test_unknown_number_is_refused(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", feedback(form, number="TS2026119999"))
    assert code == 1 and lines[0]["status"] == "refused"
    assert lines[0]["problems"][0]["field"] == "投诉编号" and "没有对应的受理记录" in lines[0]["problems"][0]["message"]
    assert len(archived_files(workspace)) == 2


def test_blank_unit_side_field_is_refused_naming_its_cell(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", feedback(form, cause=None))
    assert code == 1
    assert [(p["level"], p["field"], p["cell"]) for p in lines[0]["problems"]] == [("error", "投诉原因分析", "B14")]
    assert "未填写" in lines[0]["problems"][0]["message"]


def test_both_classes_ticked_is_responsible(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", feedback(form, responsibility=("责任", "非责任")))
    assert code == 0 and state(workspace)["responsibility"] == "责任"


def test_copied_fields_that_disagree_are_defects_not_overwrites(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", feedback(form, customer_name="陈美花", phone="13805931235"))
    assert code == 0
    problems = {p["field"]: p for p in lines[0]["problems"]}
    assert set(problems) == {"客户姓名", "客户电话"} and problems["客户姓名"]["cell"] == "B2"
    assert "陈美华" in problems["客户姓名"]["message"] and problems["客户姓名"]["level"] == "defect"
    case = Workspace.open(workspace).journal.case("TS2026110001")
    assert case["facts"]["customer_name"] == "陈美华" and case["facts"]["phone"] == "13805931234"


def test_unit_must_be_a_policy_unit_with_suggestion(registered, tousu, form):
    code, lines, _ = tousu("process", feedback(form, unit="客户创值群"))
    assert code == 1 and lines[0]["problems"][0]["field"] == "责任部门"
    assert "是否应为「客户创值赋能群」" in lines[0]["problems"][0]["message"]


def test_feedback_date_before_receipt_or_after_arrival_is_a_defect(registered, tousu, form):
    code, lines, _ = tousu("process", feedback(form, feedback_date=datetime(2026, 11, 19, 9, 0)))
    assert code == 0 and [p["field"] for p in lines[0]["problems"]] == ["反馈日期"]
    assert "早于受理时间" in lines[0]["problems"][0]["message"]
    code, lines, _ = tousu("process", feedback(form, feedback_date=datetime(2026, 11, 21, 9, 30)))
    assert "晚于表单送达时间" in lines[0]["problems"][0]["message"]


def test_plan_only_needs_a_promised_date_which_schedules_the_second_callback(registered, tousu, form, workspace):
    plan = dict(completion="未办结", result="已制定换表方案，待表具到货后更换。")
    code, lines, _ = tousu("process", feedback(form, **plan))
    assert code == 1 and lines[0]["problems"][0]["field"] == "承诺办结日期"
    code, lines, _ = tousu("process", feedback(form, **plan, **REVIEWED, promised_date=datetime(2026, 12, 5)))
    assert code == 0 and state(workspace)["status"] == "处理中"
    assert lines[0]["deadlines"]["callback"] == "2026-11-24T23:59:59"     # first callback: 11-21 + 3
    code, lines, _ = tousu("process", form(CALLBACK, dict(number="TS2026110001", callback_date="2026-11-21 08:50",
                                                          caller="周洁", method="电话", evaluation="满意",
                                                          notes="客户认可换表方案")))
    assert lines[0]["deadlines"]["callback"] == "2026-12-06T23:59:59"     # seed 6.1: promised + 1 day


def test_plan_is_recognised_from_the_result_text_when_not_ticked(registered, tousu, form):
    code, lines, _ = tousu("process", feedback(form, completion=None, result="拟于12月5日前完成换表，尚未办结。"))
    assert code == 1 and lines[0]["problems"][0]["field"] == "承诺办结日期"


def callback(form, evaluation, when="2026-11-21 08:50"):
    return form(CALLBACK, dict(number="TS2026110001", callback_date=when, caller="周洁", method="电话",
                               evaluation=evaluation, notes="回访记录"))


def test_satisfied_callback_closes_and_unsatisfied_reopens(registered, tousu, form, workspace):
    tousu("process", feedback(form, **REVIEWED))
    code, lines, _ = tousu("process", callback(form, "不满意"))
    assert code == 0 and state(workspace)["status"] == "重新处理"
    assert lines[0]["deadlines"]["handling"] == "2026-11-24T23:59:59"     # handled again: 11-21 + 3
    tousu("process", feedback(form, ".docx", **REVIEWED, result="已上门更换燃气表并退费，客户认可。"))
    assert state(workspace)["status"] == "待回访"
    tousu("process", callback(form, "基本满意", "2026-11-21 08:59"))
    current = state(workspace)
    assert (current["status"], current["evaluation"]) == ("已办结", "基本满意")


def extension(form, approval, to=datetime(2026, 11, 30)):
    return form(EXTENSION, dict(number="TS2026110001", unit="客户创值赋能群", extend_to=to,
                                reason="需厂家检测表具", approval=approval))


def test_only_an_approved_extension_moves_open_deadlines(registered, tousu, form, workspace):
    code, lines, _ = tousu("process", extension(form, None))
    assert lines[0]["deadlines"]["handling"] == "2026-11-26T23:59:59"
    code, lines, _ = tousu("process", extension(form, "不同意", datetime(2026, 11, 29)))
    assert lines[0]["deadlines"]["handling"] == "2026-11-26T23:59:59"
    code, lines, _ = tousu("process", extension(form, "同意", datetime(2026, 11, 28)))
    assert (lines[0]["deadlines"]["investigation"], lines[0]["deadlines"]["handling"]) == \
        ("2026-11-28T23:59:59", "2026-11-28T23:59:59")


def appeal(form, when, ruling=None, new_class=None):
    return form(APPEAL, dict(number="TS2026110001", unit="客户创值赋能群", appeal_date=when,
                             reason="表前阀门为客户私改，不应判责任", ruling=ruling, new_class=new_class))


def test_appeal_needs_a_judgement_and_its_window(registered, tousu, form, workspace, monkeypatch):
    code, lines, _ = tousu("process", appeal(form, "2026-11-21 08:40"))
    assert code == 1 and "尚未反馈终审判定结果" in lines[0]["problems"][0]["message"]
    tousu("process", feedback(form, **REVIEWED))                       # judged 11-21: window ends 11-24
    monkeypatch.setenv("TOUSU_NOW", "2026-11-26T10:00:00")
    code, lines, _ = tousu("process", appeal(form, "2026-11-25 09:00"))  # one day late
    assert code == 1 and lines[0]["problems"][0]["field"] == "申诉日期"
    assert "逾期不予受理" in lines[0]["problems"][0]["message"]
    code, lines, _ = tousu("process", appeal(form, "2026-11-24 17:00", "变更", "非责任"))
    assert code == 0
    current = state(workspace)
    assert current["appeal"] == {"ruling": "变更", "new_class": "非责任", "unit": "客户创值赋能群"}
    assert current["responsibility"] == "非责任"


def test_changed_ruling_needs_its_new_class(registered, tousu, form):
    tousu("process", feedback(form, **REVIEWED))
    code, lines, _ = tousu("process", appeal(form, "2026-11-21 08:45", "变更"))
    assert code == 1 and lines[0]["problems"][0]["field"] == "变更后类别"


@pytest.mark.parametrize("kind", [CALLBACK, EXTENSION, APPEAL])
def test_templates_of_the_added_forms_are_recognised(kind, tousu):
    from toolkit.paths import TEMPLATES
    for suffix in (".xlsx", ".docx"):
        code, lines, _ = tousu("check", TEMPLATES / f"{kind.title}{suffix}")
        assert code == 1 and lines[0]["form"] == kind.key
        assert "投诉编号" in {p["field"] for p in lines[0]["problems"]}


def test_feedback_after_its_deadline_is_late_unless_extended_in_time(tousu, form, workspace, monkeypatch):
    old = dict(INTAKE_VALUES, received_at=datetime(2026, 11, 10, 9, 0))          # due 11-13 and 11-16
    fed_back = dict(FEEDBACK_VALUES, received_at=datetime(2026, 11, 10, 9, 0), feedback_date="2026-11-20 10:00")
    tousu("process", form(INTAKE, old))
    tousu("process", form(FEEDBACK, fed_back))
    assert state(workspace)["late"] == ["investigation", "handling"]
    # the extension arrives on 11-12, before both deadlines (it used to be filed on 11-21, after both had
    # passed, and still wiped the lateness: issue 12 item 9)
    monkeypatch.setenv("TOUSU_NOW", "2026-11-12T10:00:00")
    tousu("process", form(INTAKE, dict(old, customer_name="乙", phone="13600000000")))
    tousu("process", form(EXTENSION, dict(number="TS2026110002", unit="客户创值赋能群", extend_to=date(2026, 11, 25),
                                          reason="需厂家检测", approval="同意")))
    assert state(workspace, "TS2026110002")["notes"] == ["已延期至 2026-11-25 23:59：调查反馈、处理反馈。"]
    monkeypatch.setenv("TOUSU_NOW", "2026-11-21T09:00:00")
    tousu("process", form(FEEDBACK, dict(fed_back, number="TS2026110002", customer_name="乙", phone="13600000000")))
    current = state(workspace, "TS2026110002")
    assert current["late"] == [] and current["deadlines"]["handling"] == "2026-11-25T23:59:59"


def test_a_late_handling_stays_late_after_an_unsatisfied_callback_reopens_it(tousu, form, workspace):
    old = dict(INTAKE_VALUES, received_at=datetime(2026, 11, 10, 9, 0))          # due 11-13 and 11-16
    tousu("process", form(INTAKE, old))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, received_at=old["received_at"],
                                         feedback_date="2026-11-20 10:00", **REVIEWED)))
    tousu("process", callback(form, "不满意"))
    current = state(workspace)
    assert (current["status"], current["late"]) == ("重新处理", ["investigation", "handling"])


# --- issue 12: the rules decided (SPEC §5) --------------------------------------------------------------
HOTLINE = "XX能源服务质量监督热线批转"


def plan_case(tousu, form, promised="2026-12-01", fed_back="2026-11-14 16:00"):
    """A hotline 非重大 case received 11-12 09:00: 调查 due 11-14, 处理 11-16 (2 + 2 natural days);
    a plan-only feedback (未办结, 承诺办结 12-01) sent on 11-14."""
    received = datetime(2026, 11, 12, 9, 0)
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, channel=HOTLINE, received_at=received)))
    return tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, channel=HOTLINE, received_at=received,
                                                feedback_date=fed_back, completion="未办结", promised_date=promised,
                                                result="已制定换表方案，待表具到货后更换。", **REVIEWED)))


def test_a_plan_on_time_meets_handling_and_opens_the_promise_stage(tousu, form, workspace):
    code, lines, _ = plan_case(tousu, form)
    assert code == 0
    current = state(workspace)
    assert current["met"] == {"investigation": "2026-11-14T16:00:00", "handling": "2026-11-14T16:00:00"}
    assert current["late"] == [] and current["status"] == "处理中"
    # 承诺办结 ends with the promised day; first callback 11-14 + 2 (hotline); appeal 11-21 (judged) + 2
    assert current["deadlines"] == {"investigation": "2026-11-14T23:59:59", "handling": "2026-11-16T23:59:59",
                                    "promise": "2026-12-01T23:59:59", "callback": "2026-11-16T23:59:59",
                                    "appeal": "2026-11-23T23:59:59"}
    # the first callback, about the plan: the next one is the second callback, 1 day after the promise
    code, lines, _ = tousu("process", callback(form, "满意", "2026-11-15 10:00"))
    assert lines[0]["deadlines"]["callback"] == "2026-12-02T23:59:59"
    assert "callback" not in state(workspace)["met"] and state(workspace)["status"] == "处理中"


def test_the_completion_on_time_meets_the_promise_and_the_second_callback_closes(tousu, form, workspace,
                                                                                    monkeypatch):
    monkeypatch.setenv("TOUSU_NOW", "2026-12-02T09:00:00")
    plan_case(tousu, form)
    done = dict(FEEDBACK_VALUES, channel=HOTLINE, received_at=datetime(2026, 11, 12, 9, 0),
                feedback_date="2026-12-01 17:00", result="已更换燃气表，客户认可。", **REVIEWED)
    _, lines, _ = tousu("process", form(FEEDBACK, done))
    current = state(workspace)
    assert current["met"]["promise"] == "2026-12-01T17:00:00" and current["late"] == []
    assert (current["status"], lines[0]["deadlines"]["callback"]) == ("待回访", "2026-12-02T23:59:59")
    tousu("process", callback(form, "满意", "2026-12-02 08:30"))
    assert state(workspace)["status"] == "已办结"


def test_a_late_completion_is_late_for_the_promise_stage_only(tousu, form, workspace, monkeypatch):
    monkeypatch.setenv("TOUSU_NOW", "2026-12-05T09:00:00")
    plan_case(tousu, form)
    done = dict(FEEDBACK_VALUES, channel=HOTLINE, received_at=datetime(2026, 11, 12, 9, 0),
                feedback_date="2026-12-03 10:30", result="已更换燃气表。", **REVIEWED)
    _, lines, _ = tousu("process", form(FEEDBACK, done))
    current = state(workspace)
    assert current["late"] == ["promise"]
    # 12-01 23:59:59 -> 12-03 10:30: 1 day 10 h 30 min 1 s, shown to the day and hour
    assert current["notes"] == [("承诺办结逾期：时限 2026-12-01 23:59，反馈日期 2026-12-03 10:30，超出 1天10小时，"
                                 "计入考核（办法10.1备注）。")]
    assert lines[0]["deadlines"]["callback"] == "2026-12-05T23:59:59"      # fed back late: 12-03 + 2


def test_a_feedback_marking_major_moves_every_stage_to_the_major_limits(registered, tousu, form, workspace):
    # received 11-20 15:30 (own channel, 非重大: 11-23 / 11-26); the feedback of 11-21 08:30 says 重大: from
    # then 2 + 2 days (11-23 / 11-25, never later than before) and the callback 11-21 + 2 = 11-23 (was 11-24)
    code, lines, _ = tousu("process", feedback(form, severity="重大"))
    assert (lines[0]["severity"], lines[0]["deadlines"]) == ("重大", {
        "investigation": "2026-11-23T23:59:59", "handling": "2026-11-25T23:59:59",
        "callback": "2026-11-23T23:59:59", "appeal": None})
    _, lines, _ = tousu("process", callback(form, "不满意"))            # reopened: 11-21 + 2 (重大)
    assert lines[0]["deadlines"]["handling"] == "2026-11-23T23:59:59"


def test_suspected_major_callback_follows_the_responsibility_found(tousu, form, workspace):
    # two customers, each complaining a 3rd time on 11-20 15:30 (rule 8: suspected, 重大 limits 11-22 / 11-24)
    dates = [datetime(2026, 9, 1, 9), datetime(2026, 10, 15, 9), datetime(2026, 11, 20, 15, 30)]
    for phone in ("13805931234", "13900000000"):
        tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, phone=phone, received_at=d, content=f"第{i}次"))
                           for i, d in enumerate(dates)])
    values = dict(FEEDBACK_VALUES, content="第2次")
    _, lines, _ = tousu("process", form(FEEDBACK, values),                  # 责任 confirms: 11-21 + 2
                           form(FEEDBACK, dict(values, number="TS2026110002", phone="13900000000",
                                               responsibility="非责任")))      # cleared: 11-21 + 3
    assert [(line["severity"], line["deadlines"]["callback"]) for line in lines] == \
        [("重大", "2026-11-23T23:59:59"), ("非重大", "2026-11-24T23:59:59")]
    assert [line["deadlines"]["handling"] for line in lines] == ["2026-11-24T23:59:59"] * 2


def test_an_extension_moves_only_the_deadlines_not_yet_passed_when_it_arrives(tousu, form, workspace, monkeypatch):
    # received 11-03 09:00: 调查 due 11-06, 处理 11-09; the extension (to 11-30) arrives 11-08 10:00
    received = datetime(2026, 11, 3, 9, 0)
    monkeypatch.setenv("TOUSU_NOW", "2026-11-08T10:00:00")
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, received_at=received)))
    _, lines, _ = tousu("process", extension(form, "同意"))
    assert (lines[0]["deadlines"]["investigation"], lines[0]["deadlines"]["handling"]) == \
        ("2026-11-06T23:59:59", "2026-11-30T23:59:59")
    assert state(workspace)["notes"] == [
        "已延期至 2026-11-30 23:59：处理反馈。",
        "延期申请送达时（2026-11-08 10:00）调查反馈（2026-11-06 23:59）时限已过：该环节不予延期，仍计为超时。"]
    monkeypatch.setenv("TOUSU_NOW", "2026-11-25T10:00:00")
    tousu("process", feedback(form, received_at=received, feedback_date="2026-11-25 09:00"))
    assert state(workspace)["late"] == ["investigation"]


def test_an_extension_filed_after_every_deadline_moves_nothing(tousu, form, workspace, monkeypatch):
    # the case: filed 11-24 for a deadline of 11-06 (received 11-03: 11-06 / 11-09)
    received = datetime(2026, 11, 3, 9, 0)
    monkeypatch.setenv("TOUSU_NOW", "2026-11-24T10:00:00")
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, received_at=received)))
    _, lines, _ = tousu("process", extension(form, "同意"))
    assert (lines[0]["deadlines"]["investigation"], lines[0]["deadlines"]["handling"]) == \
        ("2026-11-06T23:59:59", "2026-11-09T23:59:59")
    # SPEC §5: accepted with a defect (counted against 信息维护合格率), naming both stages
    assert [p["level"] for p in lines[0]["problems"]] == ["defect"]
    assert "调查反馈（2026-11-06 23:59）、处理反馈（2026-11-09 23:59）" in lines[0]["problems"][0]["message"]
    assert state(workspace)["notes"] == [("延期申请送达时（2026-11-24 10:00）调查反馈（2026-11-06 23:59）、"
                                          "处理反馈（2026-11-09 23:59）时限已过：该环节不予延期，仍计为超时。")]
    tousu("process", feedback(form, received_at=received, feedback_date="2026-11-24 09:00"))
    assert state(workspace)["late"] == ["investigation", "handling"]


def test_notes_about_the_last_form_for_the_receipt(tousu, form, workspace):
    # registered 11-21 09:00 for a case received 11-10 09:00: both deadlines (11-13, 11-16) already passed
    received = datetime(2026, 11, 10, 9, 0)
    tousu("process", form(INTAKE, dict(INTAKE_VALUES, received_at=received)))
    assert state(workspace)["notes"] == [
        "登记时调查反馈时限（2026-11-13 23:59）已过：该环节将计为超时，请承办单位尽快反馈。",
        "登记时处理反馈时限（2026-11-16 23:59）已过：该环节将计为超时，请承办单位尽快反馈。"]
    tousu("process", callback(form, "满意"))
    assert state(workspace)["notes"] == ["该投诉尚未收到调查处理反馈单：回访已记录，但案件状态与时限不变。"]
    assert state(workspace)["status"] == "待调查"
    tousu("process", extension(form, "不同意"))
    assert state(workspace)["notes"] == ["延期未获批准，时限不变。"]
    tousu("process", extension(form, None, datetime(2026, 12, 1)))
    assert state(workspace)["notes"][0].startswith("延期申请尚未审批")
    tousu("process", feedback(form, received_at=received, feedback_date="2026-11-20 10:00"))
    # 11-13 23:59:59 -> 11-20 10:00 is 6 days 10 h 1 s; 11-16 23:59:59 -> 3 days 10 h
    assert state(workspace)["notes"] == [
        "调查反馈逾期：时限 2026-11-13 23:59，反馈日期 2026-11-20 10:00，超出 6天10小时，计入考核（办法10.1备注）。",
        "处理反馈逾期：时限 2026-11-16 23:59，反馈日期 2026-11-20 10:00，超出 3天10小时，计入考核（办法10.1备注）。"]


def test_a_refused_receipt_separates_blocking_reasons_from_other_problems():
    from toolkit.problems import defect, error
    from toolkit.receipt import Receipt
    problems = [defect("联系方式", "B3", "号码位数不对"), error("投诉内容", "B10", "未填写"),
                defect("投诉类别", "B9", "未勾选")]
    text = Receipt("a.xlsx", "refused", "intake", problems=problems).describe()
    assert text.splitlines()[1:] == [
        "结果：已拒收", "表单：客户投诉受理记录单",
        "拒收原因（请修改后重新放入）：", f"  1. {problems[1].describe()}",
        "其他问题（重新提交前请一并补正）：", f"  1. {problems[0].describe()}", f"  2. {problems[2].describe()}"]


def test_a_checked_receipt_says_nothing_was_registered_and_lists_warnings():
    from toolkit.deadlines import Deadlines
    from toolkit.receipt import Receipt
    due = Deadlines(datetime(2026, 11, 14, 23, 59, 59), datetime(2026, 11, 16, 23, 59, 59),
                    datetime(2026, 12, 1, 23, 59, 59), datetime(2026, 11, 16, 23, 59, 59))
    receipt = Receipt("b.xlsx", "accepted", "feedback", deadlines=due, checked=True,
                      warnings=["延期未获批准，时限不变。"])
    lines = receipt.describe().splitlines()
    assert lines[1] == "结果：校验通过（仅校验，未登记、未编号）"
    assert lines[3:] == ["调查反馈时限：2026-11-14 23:59:59 前", "处理反馈时限：2026-11-16 23:59:59 前",
                         "承诺办结时限：2026-12-01 23:59:59 前", "回访时限：2026-11-16 23:59:59 前",
                         "第二次回访时限：2026-12-02 23:59:59 前（办法6.1）", "提示：", "  1. 延期未获批准，时限不变。"]
    data = receipt.to_json()
    assert data["warnings"] == ["延期未获批准，时限不变。"]
    assert data["deadlines"] == {"investigation": "2026-11-14T23:59:59", "handling": "2026-11-16T23:59:59",
                                 "callback": "2026-11-16T23:59:59", "appeal": None}    # SPEC §10's keys
    assert Receipt("c.xlsx", "refused", checked=True).describe().splitlines()[1] == "结果：校验未通过（仅校验，未登记）"


def test_an_appeal_changed_to_major_applies_to_the_open_callback(registered, tousu, form, workspace):
    tousu("process", feedback(form, **REVIEWED))            # 非重大, handled 11-21 08:30: callback 11-24
    code, lines, _ = tousu("process", appeal(form, "2026-11-21 08:45", "变更", "重大"))
    # the ruling arrives 11-21 09:00: from then the open callback takes the 重大 limit (+2), 11-23
    assert code == 0 and (lines[0]["severity"], lines[0]["deadlines"]["callback"]) == ("重大", "2026-11-23T23:59:59")
