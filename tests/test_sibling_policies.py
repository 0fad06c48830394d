"""The sibling regulations (seeds 001–004) run on the same toolkit through the policies shipped in
templates/policies/: hand-worked deadline tables per policy, and one lifecycle through the CLI each.

Calendar facts used below (chinesecalendar 1.11, checked by test_the_calendar_facts_used_here): 2026-10-01
(Thu) … 10-07 (Wed) are the National Day holiday, 10-10 (Sat) is a make-up working day (调休), 10-11 (Sun)
is off; 2026-11-16 is a Monday, 11-20 a Friday."""
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import FORMS, START, _form

from toolkit.cases import derive
from toolkit.deadlines import DeadlineRules
from toolkit.errors import PolicyError
from toolkit.forms.kinds import CALLBACK, FEEDBACK, INTAKE
from toolkit.notices import find_overdue
from toolkit.policy import load_policy, shipped_policies
from toolkit.workspace import Workspace

EOD = (23, 59, 59)


def policy(name):
    return load_policy(shipped_policies()[name])


def table(name, tier, received, required=None):
    """{stage: due} of an intake, every stage known from receipt (None: no limit for the tier)."""
    rules = DeadlineRules(policy(name))
    cls = rules.policy.deadlines.unknown_channel_class
    return {k: v for k, v in rules.intake(cls, tier, received, required).to_json([s.key for s in rules.policy.stages]).items()
            if v is not None}


def test_the_calendar_facts_used_here():
    assert [chinese_calendar.is_workday(date(2026, 10, d)) for d in range(1, 13)] == \
        [False] * 7 + [True, True, True, False, True]       # 10-01…07 off, 10-08/09 on, 10-10 调休, 10-11 off


def test_every_shipped_policy_loads_and_names_its_tiers_and_stages():
    names = {n: (p.tier_names, [s.name for s in p.stages]) for n in shipped_policies() for p in [policy(n)]}
    assert names == {
        "001": (("重大", "一般"), ["展开调查", "满意回复", "回访"]),
        "002": (("紧急", "重大", "一般"), ["初步调查", "初步解决方案", "落实解决措施", "反馈客户"]),
        "003": (("紧急", "重大", "较复杂", "简单"), ["初步评估", "转办", "到达现场", "处理方案沟通", "处理反馈", "进展反馈", "回访"]),
        "004": (("重大", "紧急", "重要", "普通"), ["响应", "方案执行", "回访"])}


def test_every_limit_stage_and_tier_of_a_shipped_policy_names_its_clause():
    """Each limit, each stage's name and each tier carries a comment naming the seed's clause."""
    for number, path in shipped_policies().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        in_limits = in_stage = False
        for line in lines:
            if line.startswith("["):
                in_limits, in_stage = line.startswith("[deadlines.classes"), line.startswith("[stages.")
            named = line.startswith("[[tiers]]") or (in_stage and line.startswith("name =")) or (in_limits and "=" in line)
            assert not named or re.search(rf"# ({number}\b|idem)", line), (number, line)


# ------------------------------------------------------------------ 001 物业: working days
def test_001_working_days_across_national_day():
    # 09-30 (Wed) 10:00, 一般: 展开调查 1 working day -> 10-01…07 are off -> 10-08; 满意回复 1 more -> 10-09
    assert table("001", "一般", datetime(2026, 9, 30, 10)) == {
        "investigation": "2026-10-08T23:59:59", "handling": "2026-10-09T23:59:59"}


def test_001_a_make_up_saturday_counts():
    # 10-09 (Fri) 16:00, 重大: next working day is 10-10 (Sat, 调休); then 10-11 (Sun) off -> 10-12 (Mon)
    assert table("001", "重大", datetime(2026, 10, 9, 16)) == {
        "investigation": "2026-10-10T23:59:59", "handling": "2026-10-12T23:59:59"}


def test_001_the_callback_is_fifteen_natural_days_after_the_reply():
    # 001 篇二 5.4 2): 回复后 15 天 = 15 natural days, to the end of day 15 (day 0: the reply), whatever the calendar
    rules = DeadlineRules(policy("001"))
    assert rules.callback("客服部受理", "一般", datetime(2026, 9, 30, 22, 30)) == datetime(2026, 10, 15, 23, 59, 59)


# ------------------------------------------------------------------ 002 燃气客服: four working-day stages
def test_002_four_stages_across_national_day():
    # 09-30 (Wed) 09:00, 一般: working days after it are 10-08 (1), 10-09 (2), 10-10 调休 (3), 10-12 (4), 10-13 (5)
    assert table("002", "一般", datetime(2026, 9, 30, 9)) == {
        "investigation": "2026-10-08T23:59:59", "handling": "2026-10-09T23:59:59",
        "measures": "2026-10-10T23:59:59", "result": "2026-10-13T23:59:59"}


def test_002_an_emergency_at_night_crosses_midnight():
    # 11-20 (Fri) 23:30, 紧急: 初步调查 1 h -> 11-21 00:30; 初步解决方案 1 h after that -> 01:30;
    # 落实 and 反馈客户 1 working day: 11-21/22 are a weekend -> 11-23 (Mon)
    assert table("002", "紧急", datetime(2026, 11, 20, 23, 30)) == {
        "investigation": "2026-11-21T00:30:00", "handling": "2026-11-21T01:30:00",
        "measures": "2026-11-23T23:59:59", "result": "2026-11-23T23:59:59"}


def test_002_a_major_complaint_in_an_ordinary_week():
    # 11-16 (Mon) 10:00, 重大: 17 (1), 18 (2), 19 (3), 20 (4), 23 (5)
    assert table("002", "重大", datetime(2026, 11, 16, 10)) == {
        "investigation": "2026-11-17T23:59:59", "handling": "2026-11-18T23:59:59",
        "measures": "2026-11-19T23:59:59", "result": "2026-11-23T23:59:59"}


# ------------------------------------------------------------------ 003 客服时限: minutes, hours, a recurring report
def test_003_a_simple_complaint_before_national_day():
    # 09-30 17:00, 简单: 评估 15 min -> 17:15; 转办 30 min -> 17:45; 处理 1 working day from 09-30 -> 10-08
    assert table("003", "简单", datetime(2026, 9, 30, 17)) == {
        "assess": "2026-09-30T17:15:00", "transfer": "2026-09-30T17:45:00", "handling": "2026-10-08T23:59:59"}


def test_003_an_emergency_just_before_midnight():
    # 11-20 23:50, 紧急: 评估 -> 11-21 00:05; 转办 5 min -> 00:10; 到达现场 10 min -> 00:20; 初步结果 1 h -> 01:10
    assert table("003", "紧急", datetime(2026, 11, 20, 23, 50)) == {
        "assess": "2026-11-21T00:05:00", "transfer": "2026-11-21T00:10:00", "onsite": "2026-11-21T00:20:00",
        "handling": "2026-11-21T01:10:00"}


def test_003_a_major_complaint_and_its_first_progress_report():
    # 11-16 (Mon) 09:00, 重大: 评估 09:15; 转办 09:45; 方案 2 h -> 11:45; 处理 7 working days -> 11-25;
    # the first progress report 24 h after the transfer -> 11-17 09:45
    assert table("003", "重大", datetime(2026, 11, 16, 9)) == {
        "assess": "2026-11-16T09:15:00", "transfer": "2026-11-16T09:45:00", "plan": "2026-11-16T11:45:00",
        "handling": "2026-11-25T23:59:59", "progress": "2026-11-17T09:45:00"}


# ------------------------------------------------------------------ 004 流程与责任: four tiers, hours
def test_004_response_limits_per_tier():
    # 重要 24 h: 11-20 18:30 -> 11-21 18:30 (crosses midnight); 紧急 2 h: 23:00 -> 11-21 01:00; 普通: none
    assert table("004", "重要", datetime(2026, 11, 20, 18, 30)) == {"investigation": "2026-11-21T18:30:00"}
    assert table("004", "紧急", datetime(2026, 11, 20, 23)) == {"investigation": "2026-11-21T01:00:00"}
    assert table("004", "普通", datetime(2026, 9, 30, 9)) == {}


# ------------------------------------------------------------------ the policy file
def test_a_sibling_policy_replaces_the_default_classes_and_stages(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[[tiers]]\nname = "急"\nmajor = true\n[[tiers]]\nname = "缓"\n'
                    '[stages.reply]\nname = "答复"\nmet_by = "feedback.feedback_date"\nunit_owes = true\n'
                    '[deadlines]\nunknown_channel_class = "全部"\nfallback_class = "全部"\n'
                    '[deadlines.classes."全部"."急"]\nreply = "2h"\n[deadlines.classes."全部"."缓"]\nreply = 2\n'
                    '[channels]\n"全部" = ["电话"]\n', encoding="utf-8")
    mine = load_policy(path)
    assert (mine.tier_names, mine.unit_stages, mine.minor_tier, list(mine.channels)) == (("急", "缓"), ("reply",), "缓", ["全部"])
    assert mine.limit("全部", "急", "reply") == timedelta(hours=2)


def test_the_readme_example_is_a_working_policy(tmp_path):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("## 其他制度", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "policy.toml").write_text(example, encoding="utf-8")
    mine = load_policy(tmp_path / "policy.toml")
    rules = DeadlineRules(mine)
    # 紧急 at 11-20 22:30: 处理 1 h -> 23:30; the first progress report 24 h after that -> 11-21 23:30
    assert rules.intake("客服受理", "紧急", datetime(2026, 11, 20, 22, 30)).to_json(["handling", "progress"]) == {
        "handling": "2026-11-20T23:30:00", "progress": "2026-11-21T23:30:00"}


@pytest.mark.parametrize("text, key", [
    ('[stages.x]\nname = "X"\nfrom = "stage:nowhere"\n', "stages.x.from"),
    ('[stages.x]\nname = "X"\nevery = "24h"\n', "stages.x.every"),
    ('[stages.x]\nname = "X"\nrecurring = "daily"\n', "stages.x.recurring"),
    ('[stages.callback]\nname = "回访"\nfrom = "received"\n', "stages.callback.from"),
    ('[stages.x]\nname = "X"\nmet_by = "feedback.result"\n', "stages.x.met_by"),
    ('[stages.x]\nname = "X"\nfrom = "event:callback.caller"\n', "stages.x.from"),
    ('[stages.x]\nname = "X"\nfrom = "event:promised"\n', "stages.x.from"),
    ('[stages.x]\nname = "X"\nfrom = "stage:y"\n[stages.y]\nname = "Y"\n', "stages.x.from"),
    ('[stages.x]\nname = "X"\n', "deadlines.classes.监督热线批转.重大.x"),
    ('[[tiers]]\nname = "甲"\nmajor = true\n', "tiers"),
])
def test_a_wrong_stage_or_tier_names_its_key(tmp_path, text, key):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=key.replace(".", r"\.")) as raised:
        load_policy(path)
    assert str(path) in str(raised.value)                   # the file, then the dotted key


# ------------------------------------------------------------------ through the CLI
def _tier(path, label):
    """The intake/feedback's 投诉类别/投诉性质 cell as a clerk of that office types it (the blank forms print
    the default policy's boxes)."""
    book = openpyxl.load_workbook(path)
    for row in book.active.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and "重大投诉□" in cell.value or cell.value in ("重大投诉☑  非重大投诉□",):
                cell.value = label
    book.save(path)
    return path


def _intake(form, received, label, **changes):
    values = {**INTAKE_VALUES, "received_at": received, "severity": None, **changes}
    return _tier(form(INTAKE, values), label)


def _feedback(form, received, fed_back, label, **changes):
    values = {**FEEDBACK_VALUES, **REVIEWED, "received_at": received, "feedback_date": fed_back,
              "severity": None, **changes}
    return _tier(form(FEEDBACK, values), label)


def _callback(form, when, number="TS2026110001"):
    return form(CALLBACK, dict(number=number, callback_date=when, caller="周洁", method="电话", evaluation="满意",
                               notes="回访记录"))


def test_001_lifecycle(tousu, form, workspace, monkeypatch):
    code, lines, _ = tousu("init", workspace, "--policy", "001")
    assert code == 0 and (workspace / "policy.toml").read_bytes() == shipped_policies()["001"].read_bytes()
    received = datetime(2026, 11, 20, 15, 30)                              # Fri
    code, lines, _ = tousu("process", _intake(form, received, "一般", channel="投诉电话", unit="客户服务部",
                                              target="客服人员态度"))
    assert code == 0 and lines[0]["severity"] == "一般"
    # 展开调查 1 working day: 11-21/22 weekend -> 11-23 (Mon); 满意回复 -> 11-24
    assert lines[0]["deadlines"] == {"investigation": "2026-11-23T23:59:59", "handling": "2026-11-24T23:59:59",
                                     "callback": None, "appeal": None}
    code, lines, _ = tousu("process", _feedback(form, received, datetime(2026, 11, 21, 8, 30), "一般",
                                                channel="投诉电话", unit="客户服务部", target="客服人员态度"))
    assert code == 0 and lines[0]["deadlines"]["callback"] == "2026-12-06T23:59:59"     # day 15 after the reply
    code, lines, text = tousu("process", _callback(form, "2026-11-21 08:50"), json_out=False)
    assert code == 0 and "展开调查时限：2026-11-23 23:59:59 前" in text and "满意回复时限：2026-11-24 23:59:59 前" in text
    ws = Workspace.open(workspace)
    assert ws.journal.case("TS2026110001")["state"]["status"] == "已办结"
    monkeypatch.setenv("TOUSU_NOW", "2026-12-10T09:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-12-10")
    assert code == 0 and lines[0]["overdue"] == []
    code, lines, _ = tousu("score", "--month", "2026-11")
    assert [(u["unit"], u["responsible"], u["points"]) for u in lines[0]["units"]] == [("客户服务部", 1, 1.0)]


def test_002_lifecycle_measures_met_by_the_result(tousu, form, workspace, monkeypatch):
    tousu("init", workspace, "--policy", "002")
    monkeypatch.setenv("TOUSU_NOW", "2026-11-16T10:10:00")
    received = datetime(2026, 11, 16, 10)
    code, lines, _ = tousu("process", _intake(form, received, "重大", channel="客户服务热线", unit="抢修队", target="漏气抢修"))
    assert code == 0 and lines[0]["deadlines"]["investigation"] == "2026-11-17T23:59:59"
    assert (lines[0]["deadlines"]["measures"], lines[0]["deadlines"]["result"]) == \
        ("2026-11-19T23:59:59", "2026-11-23T23:59:59")
    monkeypatch.setenv("TOUSU_NOW", "2026-11-20T09:00:00")
    # the result comes on 11-20 08:30: 初步调查 and 初步解决方案 are late, 落实解决措施 (11-19) too
    tousu("process", _feedback(form, received, datetime(2026, 11, 20, 8, 30), "重大", channel="客户服务热线",
                               unit="抢修队", target="漏气抢修"))
    state = Workspace.open(workspace).journal.case("TS2026110001")["state"]
    assert state["late"] == ["investigation", "handling", "measures"]
    assert state["notes"][2] == (  # 11-19 23:59:59 -> 11-20 08:30:00 is 8 h 30 min 1 s, counted to the minute up
        "落实解决措施逾期：时限 2026-11-19 23:59，反馈日期 2026-11-20 08:30，超出 8小时31分钟，计入考核（办法10.1备注）。")
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-20 09:00")
    assert [i["stage"] for i in lines[0]["overdue"]] == []            # 反馈客户 (11-23) is not due yet
    code, lines, _ = tousu("score", "--month", "2026-11")
    reasons = [line["reason"] for line in lines[0]["units"][0]["lines"]]
    assert reasons[-1] == ("未在时限内反馈（初步调查时限2026-11-17 23:59，实际反馈2026-11-20 08:30；初步解决方案时限"
                           "2026-11-18 23:59，实际反馈2026-11-20 08:30；落实解决措施时限2026-11-19 23:59，实际反馈"
                           "2026-11-20 08:30），每起扣0.5分（办法10.1备注）")
    assert reasons[0].startswith("重大投诉（责任）每起扣3")


def test_003_lifecycle_a_progress_report_missed_on_the_second_day(tousu, form, workspace, monkeypatch):
    tousu("init", workspace, "--policy", "003")
    received = datetime(2026, 11, 16, 9)                                 # Mon 09:00, 重大
    monkeypatch.setenv("TOUSU_NOW", "2026-11-16T09:10:00")
    code, lines, _ = tousu("process", _intake(form, received, "重大复杂", channel="电话", unit="设施设备部", target="展品"))
    assert code == 0 and lines[0]["severity"] == "重大"
    assert lines[0]["deadlines"] == {
        "investigation": None, "handling": "2026-11-25T23:59:59", "callback": None, "appeal": None,
        "assess": "2026-11-16T09:15:00", "transfer": "2026-11-16T09:45:00", "onsite": None,
        "plan": "2026-11-16T11:45:00", "progress": "2026-11-17T09:45:00"}
    # 11-17 08:00: the plan (late: due 11-16 11:45), which is also the first progress report (window until 09:45)
    monkeypatch.setenv("TOUSU_NOW", "2026-11-17T08:10:00")
    plan = dict(channel="电话", unit="设施设备部", target="展品", completion="未办结", promised_date=date(2026, 11, 24),
                result="更换展品部件，预计11月24日完成")
    code, lines, _ = tousu("process", _feedback(form, received, datetime(2026, 11, 17, 8), "重大", **plan))
    assert code == 0 and lines[0]["deadlines"]["progress"] == "2026-11-18T09:45:00"    # the next one
    # nothing between 11-17 09:45 and 11-18 09:45: at 10:00 on the second day the 2nd report is overdue
    ws = Workspace.open(workspace)
    overdue = find_overdue(ws.journal, datetime(2026, 11, 18, 10), ws.policy)
    assert [(i.stage, i.name, i.due, i.owed) for i in overdue] == [
        ("callback", "回访", "2026-11-18T08:00:00", False),                          # the callback about the plan
        ("progress#2", "进展反馈（第2次）", "2026-11-18T09:45:00", True)]
    # the result at 10:30 ends the reports (#3, due 11-19 09:45, is not owed); the callback 24 h after it
    monkeypatch.setenv("TOUSU_NOW", "2026-11-18T11:00:00")
    code, lines, _ = tousu("process", _feedback(form, received, datetime(2026, 11, 18, 10, 30), "重大",
                                                **dict(plan, completion="已办结", result="已更换部件")))
    assert lines[0]["deadlines"]["callback"] == "2026-11-19T10:30:00"
    code, lines, _ = tousu("process", _callback(form, "2026-11-18 15:00"))
    assert Workspace.open(workspace).journal.case("TS2026110001")["state"]["status"] == "已办结"
    monkeypatch.setenv("TOUSU_NOW", "2026-12-01T09:00:00")
    code, lines, _ = tousu("score", "--month", "2026-11")
    reasons = [line["reason"] for line in lines[0]["units"][0]["lines"]]
    assert reasons == [
        "重大投诉（责任）每起扣3分，策略 major_points=3（办法10.1）",
        "未在时限内反馈（处理方案沟通时限2026-11-16 11:45，实际反馈2026-11-17 08:00），每起扣0.5分（办法10.1备注）",
        "未在时限内反馈（进展反馈（第2次）时限2026-11-18 09:45，期末仍未反馈），每起扣0.5分（办法10.1备注）"]


def test_004_lifecycle_tiers_from_the_intake(tousu, form, workspace, monkeypatch):
    tousu("init", workspace, "--policy", "004")
    monkeypatch.setenv("TOUSU_NOW", "2026-11-20T23:10:00")
    received = datetime(2026, 11, 20, 23)
    code, lines, _ = tousu("process", _intake(form, received, "紧急投诉", channel="电话热线", unit="供应链部",
                                              target="物流配送"))
    assert code == 0 and lines[0]["severity"] == "紧急"
    assert lines[0]["deadlines"]["investigation"] == "2026-11-21T01:00:00"        # 2 h, past midnight
    code, lines, _ = tousu("process", _intake(form, received, "加急", channel="电话热线", unit="供应链部",
                                              target="物流配送", customer_name="乙", phone="13600000000"))
    problem = next(p for p in lines[0]["problems"] if p["field"] == "投诉类别")
    assert problem["message"] == "「加急」未勾选或不是策略中的投诉性质，请勾选或填写其中之一：重大、紧急、重要、普通。"
    assert lines[0]["severity"] == "普通" and lines[0]["deadlines"]["investigation"] is None
    monkeypatch.setenv("TOUSU_NOW", "2026-11-21T09:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-11-21 09:00")
    assert [(i["number"], i["stage"], i["due"]) for i in lines[0]["overdue"]] == [
        ("TS2026110001", "investigation", "2026-11-21T01:00:00")]


def test_init_keeps_an_existing_policy(tousu, workspace):
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[scoring]\nmajor_points = 2\n', encoding="utf-8")
    code, _, output = tousu("init", workspace, "--policy", "003")
    assert code == 2 and "未覆盖" in output
    assert (workspace / "policy.toml").read_text(encoding="utf-8") == '[scoring]\nmajor_points = 2\n'


def test_a_recurring_stage_owes_one_report_per_period_until_the_result():
    from toolkit.deadlines import Recurring
    first, day = datetime(2026, 11, 17, 9, 45), timedelta(hours=24)
    reports = Recurring(first, day, [datetime(2026, 11, 17, 8)])
    # at 11-18 10:00: #1 (window 11-16 09:45 … 11-17 09:45) met at 08:00, #2 (… 11-18 09:45) missed,
    # #3 (… 11-19 09:45) begun and still open
    assert reports.occurrences(datetime(2026, 11, 18, 10)) == [
        (1, first, datetime(2026, 11, 17, 8)), (2, first + day, None), (3, first + 2 * day, None)]
    assert reports.pending() == first + day
    # the result fed back at 11-18 10:30: #3 (due after it) is not owed; a report in #2's window meets it
    closed = Recurring(first, day, [datetime(2026, 11, 17, 8), datetime(2026, 11, 18, 9)], datetime(2026, 11, 18, 10, 30))
    assert [n for n, _, _ in closed.occurrences(datetime(2026, 11, 30))] == [1, 2] and closed.pending() is None


@settings(max_examples=200, deadline=None)
@given(steps=FORMS, tier=st.sampled_from(("紧急", "重大", "较复杂", "简单")))
def test_003_deadlines_never_move_earlier_when_a_case_only_gains_forms(steps, tier):
    """test_properties' property on a policy of the policy's own stages (minutes, a recurring report)."""
    mine = policy("003")
    case = {"number": "TS2026030001", "auto": {},
            "facts": {"received_at": START.isoformat(), "channel_class": "客服受理", "severity": tier,
                      "unit": "设施设备部", "required_date": None}}
    forms = sorted((_form(*step) for step in steps), key=lambda f: f["arrived_at"])
    before = derive(case, [], mine)
    for count in range(1, len(forms) + 1):
        after = derive(case, forms[:count], mine)
        for stage in mine.unit_stages:
            old, new = before.deadlines.get(stage), after.deadlines.get(stage)
            if old is not None and new is not None and stage not in before.met and stage not in after.met:
                assert new >= old, (stage, old, new, forms[:count])
        before = after


def test_due_and_overdue_speak_the_policys_tiers_and_stages(tousu, form, workspace, monkeypatch):
    """Under 003 the CLI's own listings name 003's stages (a default-policy table of names used to fail on
    them) and accept 003's tiers."""
    tousu("init", workspace, "--policy", "003")
    code, _, text = tousu("due", "--channel", "电话", "--severity", "重大", "--received", "2026-11-16 09:00",
                          json_out=False)
    # 09:00 + 15 min; + 30 min; + 2 h from the transfer; 7 working days (11-17..11-25); first report 24 h on
    assert code == 0, text
    for line in ("初步评估时限：2026-11-16 09:15:00 前", "转办时限：2026-11-16 09:45:00 前",
                 "处理方案沟通时限：2026-11-16 11:45:00 前", "处理反馈时限：2026-11-25 23:59:59 前",
                 "进展反馈时限：2026-11-17 09:45:00 前"):
        assert line in text, text
    code, _, text = tousu("due", "--channel", "电话", "--severity", "非重大", "--received", "2026-11-16 09:00",
                          json_out=False)
    assert code == 2 and "可选：紧急、重大、较复杂、简单" in text
    monkeypatch.setenv("TOUSU_NOW", "2026-11-16T09:10:00")
    tousu("process", _intake(form, datetime(2026, 11, 16, 9), "重大复杂", channel="电话", unit="设施设备部",
                             target="展品"))
    code, _, text = tousu("overdue", "--as-of", "2026-11-16 12:00", json_out=False)
    assert code == 0 and "TS2026110001  处理方案沟通  时限 2026-11-16 11:45:00  设施设备部" in text, text


def test_the_web_view_follows_the_policys_tiers_and_stages(tousu, form, workspace, monkeypatch):
    from starlette.testclient import TestClient

    from toolkit.clock import Clock
    from toolkit.web.app import create_app
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-11-16T09:10:00")
    tousu("process", _intake(form, datetime(2026, 11, 16, 9), "重大复杂", channel="电话", unit="设施设备部",
                             target="展品"))
    client = TestClient(create_app(workspace, Clock(datetime(2026, 11, 16, 12, 0))), client=("127.0.0.1", 5000))
    today = client.get("/today").text
    assert "处理方案沟通" in today and "2026-11-16 11:45" in today       # due 2 h after the 09:45 transfer
    assert client.get("/api/today").json()["overdue"] == [
        {"number": "TS2026110001", "stage": "plan", "due": "2026-11-16T11:45:00", "unit": "设施设备部",
         "notice": None, "new": False}]
    listing = client.get("/cases").text
    assert all(f"<option >{tier}</option>" in listing or f"<option>{tier}</option>" in listing
               for tier in ("紧急", "重大", "较复杂", "简单"))
    detail = client.get("/cases/TS2026110001").text
    assert "进展反馈" in detail and "处理方案沟通" in detail


def test_the_ledger_has_a_deadline_column_per_timed_stage_of_the_policy(tousu, form, workspace, monkeypatch):
    """Under 003 the 台帐 names 003's stages: 初步评估/转办/到达现场/处理方案沟通/处理反馈/进展反馈/回访 时限,
    filled from the case; 是否超时 follows 003's supervised stages (the plan missed by 12:00)."""
    import openpyxl

    from toolkit.batch import refresh_ledgers
    from toolkit.ledger import ANNEX_COLUMNS, ledger_path
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-11-16T09:10:00")
    tousu("process", _intake(form, datetime(2026, 11, 16, 9), "重大复杂", channel="电话", unit="设施设备部",
                             target="展品"))
    ws = Workspace.open(workspace)
    refresh_ledgers(ws, {2026}, datetime(2026, 11, 16, 12, 0))
    sheet = openpyxl.load_workbook(ledger_path(ws, 2026))["11月"]
    header = [c.value for c in sheet[2]]
    assert header == [*ANNEX_COLUMNS, "受理渠道", "投诉性质", "投诉类别", "重大依据", "初步评估时限", "转办时限",
                      "到达现场时限", "处理方案沟通时限", "处理反馈时限", "进展反馈时限", "回访时限",
                      "状态", "是否超时", "回访评价", "考核扣分"]
    row = dict(zip(header, [c.value for c in sheet[3]], strict=True))
    assert (row["初步评估时限"], row["处理方案沟通时限"], row["进展反馈时限"]) == (
        datetime(2026, 11, 16, 9, 15), datetime(2026, 11, 16, 11, 45), datetime(2026, 11, 17, 9, 45))
    assert row["到达现场时限"] is None and row["投诉性质"] == "重大" and row["是否超时"] == "是"
    ws.close()


def test_an_unknown_policy_name_creates_nothing_and_lists_the_shipped_ones(tousu, workspace):
    code, _, output = tousu("init", workspace, "--policy", "005", json_out=False)
    assert code == 2 and "没有名为「005」的制度策略；可选：001、002、003、004" in output
    assert not workspace.exists() and "'" not in output
