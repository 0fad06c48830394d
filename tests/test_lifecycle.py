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


def test_feedback_after_its_deadline_is_late_unless_extended(tousu, form, workspace):
    old = dict(INTAKE_VALUES, received_at=datetime(2026, 11, 10, 9, 0))          # due 11-13 and 11-16
    fed_back = dict(FEEDBACK_VALUES, received_at=datetime(2026, 11, 10, 9, 0), feedback_date="2026-11-20 10:00")
    tousu("process", form(INTAKE, old))
    tousu("process", form(FEEDBACK, fed_back))
    assert state(workspace)["late"] == ["investigation", "handling"]
    tousu("process", form(INTAKE, dict(old, customer_name="乙", phone="13600000000")))
    tousu("process", form(EXTENSION, dict(number="TS2026110002", unit="客户创值赋能群", extend_to=date(2026, 11, 25),
                                          reason="需厂家检测", approval="同意")))
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
