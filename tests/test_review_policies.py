"""Review of the sibling policies (seeds 001–004) as a clerk, an auditor and an office writing its own
policy would meet them: the tier a case is raised to, the order the clerk reads the stages in, the web
view of stages nobody supervises, and the messages of a hand-written policy with a mistake in it.

Calendar facts (chinesecalendar 1.11): 2026-10-01 … 10-07 are the National Day holiday, 10-10 (Sat) is a
make-up working day (调休), 10-11 (Sun) is off."""
from datetime import datetime

import pytest
from test_sibling_policies import _intake

from toolkit.errors import PolicyError
from toolkit.policy import load_policy, shipped_policies


# ------------------------------------------------------------------ the tier a case is raised to
@pytest.mark.parametrize("name", ["002", "003"])
def test_rules_raise_a_case_to_the_policys_major_tier_not_to_its_emergency(name):
    """002 and 003 list 紧急 (gas leak, safety) before 重大; a repeat complainant (rule 8) or a ticked
    重大情形 is a 重大 complaint, not an emergency that owes a site visit within 10 minutes."""
    assert load_policy(shipped_policies()[name]).major_tier == "重大"


def test_003_a_ticked_major_rule_takes_the_major_limits(tousu, form, workspace, monkeypatch):
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T16:10:00")
    path = _intake(form, datetime(2026, 9, 30, 16), "简单问题", channel="电话", unit="设施设备部", target="展品",
                   major_rules=(1,))
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["severity"] == "重大"
    problem = next(p for p in lines[0]["problems"] if p["field"] == "投诉类别")
    assert problem["message"] == "重大情形填了第1项，但投诉类别未勾选重大投诉，已按重大投诉处理。"
    # 重大 under 003: 15 min, 30 min, plan 2 h after the transfer, 7 working days (10-08, 09, 10 调休, 12, 13,
    # 14, 15), first progress report 24 h after the transfer; no site visit (only 紧急 owes one)
    assert lines[0]["deadlines"] == {
        "investigation": None, "handling": "2026-10-15T23:59:59", "callback": None, "appeal": None,
        "assess": "2026-09-30T16:15:00", "transfer": "2026-09-30T16:45:00", "onsite": None,
        "plan": "2026-09-30T18:45:00", "progress": "2026-10-01T16:45:00"}


def test_two_tiers_ticked_the_message_names_the_tier_taken(tousu, form, workspace, monkeypatch):
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T16:10:00")
    path = _intake(form, datetime(2026, 9, 30, 16), "紧急投诉☑ 简单问题☑", channel="电话", unit="安全保卫部",
                   target="安全隐患")
    code, lines, _ = tousu("process", path)
    assert lines[0]["severity"] == "紧急"
    problem = next(p for p in lines[0]["problems"] if p["field"] == "投诉类别")
    assert problem["message"] == "紧急投诉与简单投诉同时勾选，已按紧急投诉处理，请只勾选一项。"


# ------------------------------------------------------------------ what the clerk reads
def test_due_lists_the_stages_in_the_policys_order(tousu, workspace):
    """003 emergency received 5 minutes before midnight on the last day of the holiday: every limit is in
    minutes and hours, so each crosses midnight into 10-08."""
    tousu("init", workspace, "--policy", "003")
    code, _, text = tousu("due", "--channel", "电话", "--severity", "紧急", "--received", "2026-10-07 23:55",
                          json_out=False)
    assert code == 0
    assert [line for line in text.splitlines() if "时限：" in line] == [
        "初步评估时限：2026-10-08 00:10:00 前", "转办时限：2026-10-08 00:15:00 前",
        "到达现场时限：2026-10-08 00:25:00 前", "处理反馈时限：2026-10-08 01:15:00 前"]


def test_the_web_view_never_calls_a_passed_stage_not_yet_due(tousu, form, workspace, monkeypatch):
    """003's 初步评估 and 转办 are the office's own (no form records them): once their time is past the
    case page must not say 未到期."""
    from starlette.testclient import TestClient

    from toolkit.clock import Clock
    from toolkit.web.app import create_app
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T16:10:00")
    tousu("process", _intake(form, datetime(2026, 9, 30, 16), "较复杂", channel="电话", unit="设施设备部",
                             target="展品"))
    client = TestClient(create_app(workspace, Clock(datetime(2026, 10, 9, 12))), client=("127.0.0.1", 5000))
    page = client.get("/cases/TS2026090001").text
    rows = {name: page.split(f"<td>{name}", 1)[1].split("</tr>", 1)[0] for name in ("初步评估", "转办", "处理反馈")}
    assert "未到期" not in rows["初步评估"] and "已过时限" in rows["初步评估"]
    assert "未到期" not in rows["转办"] and "已过时限" in rows["转办"]
    assert "未到期" in rows["处理反馈"]                      # 3 working days: 10-08, 09, 10 (调休) -> 10-10


# ------------------------------------------------------------------ a hand-written policy with a mistake
def _written(workspace, old, new):
    text = shipped_policies()["003"].read_text(encoding="utf-8")
    assert old in text
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "policy.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return workspace / "policy.toml"


@pytest.mark.parametrize("old, new, expected", [
    # a limit written in Chinese: the file and the key
    ('callback = "24h"                        # 003 三、6\n\n[deadlines.classes."客服受理"."较复杂"]',
     'callback = "24小时"\n\n[deadlines.classes."客服受理"."较复杂"]',
     "策略文件 {path} 中的键「deadlines.classes.客服受理.重大.callback」取值无效：「24小时」"),
    # a tier key misspelt: the key named, no Python dict in the message
    ('[[tiers]]                               # 003 三、4「一般投诉处理时限」: 较复杂问题\nname = "较复杂"',
     '[[tiers]]\nlable = "较复杂"\nname = "较复杂"', "策略文件 {path} 中的键「tiers[2].lable」不存在"),
    ('name = "较复杂"', 'name = 3', "策略文件 {path} 中的键「tiers[2].name」应为投诉性质的名称（文字，不能为空）"),
    ('name = "较复杂"', 'name = ""', "策略文件 {path} 中的键「tiers[2].name」应为投诉性质的名称（文字，不能为空）"),
    # a stage key misspelt in [stages]: the limit keyed by the right spelling is named, with the stages
    ("[stages.onsite]", "[stages.onsit]", "策略文件 {path} 中的键「deadlines.classes.客服受理.紧急.onsite」不是 [stages] "
     "中需要时限的环节（assess、transfer、onsit、plan、handling、progress、callback）"),
    # a tier misspelt in the limits: named, not reported as the real tier missing
    ('[deadlines.classes."客服受理"."较复杂"]', '[deadlines.classes."客服受理"."较复查"]',
     "策略文件 {path} 中的键「deadlines.classes.客服受理.较复查」不是 [[tiers]] 中的投诉性质（紧急、重大、较复杂、简单）"),
    # a stage the unit owes that no form can meet: overdue and charged for ever
    ('from = "stage:assess"', 'from = "stage:assess"\nunit_owes = true',
     "策略文件 {path} 中的键「stages.transfer.met_by」缺失：承办单位须反馈的环节（unit_owes = true）"),
    # one label meaning two tiers: an intake ticking it would be read as either
    ('labels = ["较复杂问题", "较复杂", "较复杂投诉"]', 'labels = ["较复杂问题", "简单"]',
     "策略文件 {path} 中的键「tiers[3].labels」中的「简单」已是投诉性质「较复杂」的标签"),
])
def test_a_mistake_in_a_written_policy_is_named_in_chinese(tousu, workspace, old, new, expected):
    path = _written(workspace, old, new)
    code, _, text = tousu("overdue", "--as-of", "2026-10-09 10:00", json_out=False)
    assert code == 2 and expected.format(path=path) in text, text
    assert "Traceback" not in text and "{'" not in text and "['" not in text



# ------------------------------------------------------------------ 003: a plan is not the result
def test_003_a_plan_does_not_meet_the_handling_limit(tousu, form, workspace, monkeypatch):
    """003 三、4: 较复杂 problems are handled "最长不超过3个工作日" and 三、5 the result is fed back by then; 003
    has no 承诺办结 stage, so a plan with a far promised date must not close 处理反馈 (under seed 000 it
    does, and 承诺办结 supervises the promise). Received Wed 09-30 16:00: 3 working days are 10-08, 10-09
    and 10-10 (the 调休 Saturday) -> 10-10 23:59:59."""
    from test_sibling_policies import _feedback
    tousu("init", workspace, "--policy", "003")
    received = datetime(2026, 9, 30, 16)
    where = dict(channel="电话", unit="设施设备部", target="展品")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T16:10:00")
    code, lines, _ = tousu("process", _intake(form, received, "较复杂", **where))
    assert lines[0]["deadlines"]["handling"] == "2026-10-10T23:59:59"
    monkeypatch.setenv("TOUSU_NOW", "2026-10-09T11:10:00")
    plan = dict(where, number="TS2026090001", completion="未办结", promised_date=datetime(2026, 10, 30),
                result="更换展品部件，预计10月30日完成")
    code, lines, _ = tousu("process", _feedback(form, received, datetime(2026, 10, 9, 11), "较复杂", **plan))
    assert code == 0 and lines[0]["deadlines"]["handling"] == "2026-10-10T23:59:59"
    monkeypatch.setenv("TOUSU_NOW", "2026-10-11T09:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-10-11 09:00")
    assert sorted((i["stage"], i["due"]) for i in lines[0]["overdue"]) == [
        ("callback", "2026-10-10T11:00:00"),                # the office's callback about the plan (24 h)
        ("handling", "2026-10-10T23:59:59")]
    # the result on Monday 10-12: late by 1 day 10 hours, charged in October
    monkeypatch.setenv("TOUSU_NOW", "2026-10-12T10:10:00")
    code, lines, _ = tousu("process", _feedback(form, received, datetime(2026, 10, 12, 10), "较复杂",
                                                **dict(plan, completion="已办结", result="已更换部件")))
    assert lines[0]["deadlines"]["callback"] == "2026-10-13T10:00:00"
    monkeypatch.setenv("TOUSU_NOW", "2026-11-01T09:00:00")
    code, lines, _ = tousu("score", "--month", "2026-10")
    assert [line["reason"] for line in lines[0]["units"][0]["lines"]] == [
        "未在时限内反馈（处理反馈时限2026-10-10 23:59，实际反馈2026-10-12 10:00），每起扣0.5分（办法10.1备注）"]


# ------------------------------------------------------------------ 004: no callback limit, no second callback
def test_004_a_plan_sets_no_second_callback_the_policy_does_not_have(tousu, form, workspace, monkeypatch):
    """Seed 000 6.1 puts a second callback one day after the promised date; 004 writes no callback limit at
    all (一(四): "执行后，需对客户进行回访"), so no 回访 deadline may appear, be listed overdue or be printed."""
    from test_sibling_policies import _callback, _feedback
    tousu("init", workspace, "--policy", "004")
    received = datetime(2026, 9, 30, 20)
    where = dict(channel="电话热线", unit="供应链部", target="物流配送")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T20:05:00")
    code, lines, _ = tousu("process", _intake(form, received, "重要投诉", **where))
    assert lines[0]["deadlines"]["investigation"] == "2026-10-01T20:00:00"          # 24 h, across the holiday
    plan = dict(where, number="TS2026090001", completion="未办结", promised_date=datetime(2026, 10, 5),
                result="补发，预计10月5日到")
    monkeypatch.setenv("TOUSU_NOW", "2026-10-01T10:05:00")
    code, _, text = tousu("process", _feedback(form, received, datetime(2026, 10, 1, 10), "重要", **plan),
                          json_out=False)
    assert "方案执行时限：2026-10-05 23:59:59 前" in text and "回访时限" not in text, text
    monkeypatch.setenv("TOUSU_NOW", "2026-10-01T15:05:00")
    code, lines, _ = tousu("process", _callback(form, "2026-10-01 15:00", "TS2026090001"))
    assert code == 0 and lines[0]["deadlines"]["callback"] is None
    monkeypatch.setenv("TOUSU_NOW", "2026-10-04T10:05:00")
    tousu("process", _feedback(form, received, datetime(2026, 10, 4, 10), "重要", **dict(plan, completion="已办结")))
    monkeypatch.setenv("TOUSU_NOW", "2026-10-08T09:00:00")
    code, lines, _ = tousu("overdue", "--as-of", "2026-10-08 09:00")
    assert lines[0]["overdue"] == []


# ------------------------------------------------------------------ natural days in a working-day policy
def _001_with_callback(tmp_path, limit):
    path = tmp_path / "policy.toml"
    text = shipped_policies()["001"].read_text(encoding="utf-8")
    assert text.count('callback = "15自然日"') == 2
    path.write_text(text.replace('callback = "15自然日"', f'callback = "{limit}"'), encoding="utf-8")
    return path


def test_natural_days_end_at_the_end_of_the_last_day_in_a_working_day_policy(tmp_path):
    """001 篇二 5.4 2): "在回复客户处理意见后15天，客服主任应回访客户". 001 counts its other limits in working
    days; an office reading these 15 as natural days to the end of day 15 (SPEC §5's reading of a day
    limit) writes "15自然日". Reply Fri 09-25 16:00 -> 10-10 23:59:59 (the National Day holiday counts)."""
    from toolkit.deadlines import DeadlineRules
    rules = DeadlineRules(load_policy(_001_with_callback(tmp_path, "15自然日")))
    assert rules.callback("客服部受理", "一般", datetime(2026, 9, 25, 16)) == datetime(2026, 10, 10, 23, 59, 59)
    # 1 working day from the same Friday: Sat 09-26 and Sun 09-27 off -> Mon 09-28
    assert rules.intake("客服部受理", "一般", datetime(2026, 9, 25, 16)).investigation == \
        datetime(2026, 9, 28, 23, 59, 59)


def test_a_limit_in_words_is_refused_naming_the_forms_that_work(tmp_path):
    with pytest.raises(PolicyError, match="「deadlines.classes.客服部受理.重大.callback」取值无效：「15天」.*\"15自然日\""):
        load_policy(_001_with_callback(tmp_path, "15天"))


# ------------------------------------------------------------------ the blank form prints the default's boxes
@pytest.mark.parametrize("name, minor", [("001", "一般"), ("002", "一般"), ("003", "简单"), ("004", "普通")])
def test_the_printed_non_major_box_is_never_read_as_major(tousu, intake, workspace, name, minor):
    """The blank 受理记录单 prints 「重大投诉□ 非重大投诉□」 (the default policy's boxes). Under 003 and 004
    「非重大投诉☑」 used to be read as 重大 (「重大投诉」 found inside it, the tick after it): every ordinary
    complaint took the major limits and 3 points. Each shipped policy reads it as its ordinary tier."""
    tousu("init", workspace, "--policy", name)
    code, lines, _ = tousu("process", intake(severity="非重大"))
    assert code == 0 and lines[0]["severity"] == minor
    assert not [p for p in lines[0]["problems"] if p["field"] == "投诉类别"]


def test_a_written_policy_without_the_printed_box_asks_instead_of_guessing_major(tousu, intake, workspace):
    _written(workspace, '"一般投诉", "一般", "非重大投诉", "非重大"]', ']')
    code, lines, _ = tousu("process", intake(severity="非重大"))
    assert lines[0]["severity"] == "简单"                  # an intake naming no tier takes the last minor one
    problem = next(p for p in lines[0]["problems"] if p["field"] == "投诉类别")
    assert "不是策略中的投诉性质" in problem["message"] and "紧急、重大、较复杂、简单" in problem["message"]


@pytest.mark.parametrize("typed, tier", [("较复杂投诉", "较复杂"), ("较复杂问题", "较复杂"), ("复杂投诉", "重大"),
                                         ("简单问题", "简单"), ("紧急投诉", "紧急")])
def test_003_a_typed_tier_is_not_read_as_the_tier_whose_label_hides_inside_it(tousu, form, workspace, monkeypatch,
                                                                              typed, tier):
    """003's 重大 tier has the label 「复杂投诉」, which hides inside 「较复杂投诉」 — what a clerk types for
    a 较复杂 complaint."""
    tousu("init", workspace, "--policy", "003")
    monkeypatch.setenv("TOUSU_NOW", "2026-09-30T16:10:00")
    code, lines, _ = tousu("process", _intake(form, datetime(2026, 9, 30, 16), typed, channel="电话",
                                              unit="设施设备部", target="展品"))
    assert code == 0 and lines[0]["severity"] == tier


@pytest.mark.parametrize("text, expected", [
    ('[scoring]\nmajor_points = "3"\n', "键「scoring.major_points」取值类型不对：应为数字，实为「3」（文字）。"),
    ('[units]\nnames = "客服部"\n', "键「units.names」取值类型不对：应为列表（如 [\"甲\", \"乙\"]），实为「客服部」（文字）。"),
    ('[stages.investigation]\nname = "调查"\nunit_owes = "yes"\n', "键「stages.investigation.unit_owes」应为 true 或 false，实为「yes」。"),
    ('[deadlines]\ncalendar = "workday"\n', "键「deadlines.calendar」只能是 \"natural\" 或 \"working\"，实为「workday」。"),
])
def test_a_wrong_value_is_described_in_chinese_not_in_python(tousu, workspace, text, expected):
    workspace.mkdir(parents=True)
    (workspace / "policy.toml").write_text(text, encoding="utf-8")
    code, _, output = tousu("overdue", "--as-of", "2026-10-09 10:00", json_out=False)
    assert code == 2 and expected in output, output
