"""Seed §1.2 rules 8 and 9, suspected until a feedback confirms 责任 (SPEC §6), with hand-worked deadlines."""
from datetime import datetime

from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.workspace import Workspace


def cases(workspace):
    journal = Workspace.open(workspace).journal
    return {row["number"]: journal.case(row["number"])["state"]
            for row in journal.db.execute("SELECT number FROM cases ORDER BY number")}


def test_third_complaint_of_one_phone_within_90_days_is_suspected_major(tousu, form, workspace):
    dates = [datetime(2026, 9, 1, 9), datetime(2026, 10, 15, 9), datetime(2026, 11, 20, 15, 30)]
    intakes = [form(INTAKE, dict(INTAKE_VALUES, received_at=d, content=f"第{i}次投诉")) for i, d in enumerate(dates, 1)]
    code, lines, _ = tousu("process", *intakes)
    assert [l["suspected_major"] for l in lines] == [False, False, True]
    third = lines[2]
    assert third["severity"] == "非重大"            # suspected: scored as major only once 责任 is confirmed
    assert third["major_reasons"] == ["规则8：同一客户90日内第3次投诉（TS2026090001、TS2026100001、TS2026110001）"]
    # own channel, major limits 2 + 2 from 2026-11-20
    assert (third["deadlines"]["investigation"], third["deadlines"]["handling"]) == \
        ("2026-11-22T23:59:59", "2026-11-24T23:59:59")


def test_repeat_outside_the_window_does_not_count(tousu, form):
    dates = [datetime(2026, 8, 1, 9), datetime(2026, 10, 15, 9), datetime(2026, 11, 20, 15, 30)]
    code, lines, _ = tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, received_at=d, content=str(d))) for d in dates])
    assert [l["suspected_major"] for l in lines] == [False, False, False]


def test_same_customer_by_name_and_address_when_no_phone(tousu, form):
    values = dict(INTAKE_VALUES, phone=None)
    code, lines, _ = tousu("process", *[form(INTAKE, dict(values, received_at=datetime(2026, 11, d, 9), content=str(d)))
                                        for d in (1, 5, 9)])
    assert [l["suspected_major"] for l in lines] == [False, False, True]


CLUSTER = [datetime(2026, 11, 17, 22), datetime(2026, 11, 18, 8), datetime(2026, 11, 18, 20),
           datetime(2026, 11, 19, 10), datetime(2026, 11, 19, 21)]


def cluster_intakes(form, moments, target="营业厅 窗口"):
    return [form(INTAKE, dict(INTAKE_VALUES, customer_name=f"客户{i}", phone=f"1390000000{i}", target=target,
                              received_at=moment, content="窗口排队两小时无人办理")) for i, moment in enumerate(moments)]


def test_five_customers_about_one_target_within_48_hours_upgrade_all_five(tousu, form, workspace):
    code, lines, _ = tousu("process", *cluster_intakes(form, CLUSTER))
    assert [l["suspected_major"] for l in lines] == [False, False, False, False, True]
    states = cases(workspace)
    assert all(s["suspected_major"] and s["major_reasons"] == ["规则9：48小时内5位客户投诉同一对象"]
               for s in states.values())
    # suspected at 11-19 21:00: major limits (2+2) from then, never later than what each case already had
    expected = {"TS2026110001": ("2026-11-20", "2026-11-23"),   # 11-17 22:00: minor 11-20/11-23 stay earlier
                "TS2026110002": ("2026-11-21", "2026-11-23"),   # minor 11-21/11-24 -> handling 11-23
                "TS2026110003": ("2026-11-21", "2026-11-23"),
                "TS2026110004": ("2026-11-21", "2026-11-23"),   # minor 11-22/11-25 -> 11-21/11-23
                "TS2026110005": ("2026-11-21", "2026-11-23")}   # suspected on receipt: plain major limits
    assert {n: (s["deadlines"]["investigation"][:10], s["deadlines"]["handling"][:10]) for n, s in states.items()} \
        == expected


def test_four_customers_or_a_window_over_48_hours_is_no_cluster(tousu, form, workspace):
    tousu("process", *cluster_intakes(form, CLUSTER[:4]))
    late = cluster_intakes(form, [datetime(2026, 11, 20, 9, 0)])     # 59 h after the first, 49 h after the 2nd
    code, lines, _ = tousu("process", *late)
    states = cases(workspace)
    assert not any(s["suspected_major"] for s in states.values())
    assert states["TS2026110004"]["deadlines"]["investigation"] == "2026-11-22T23:59:59"


def test_one_customer_complaining_twice_counts_once_in_a_cluster(tousu, form, workspace):
    intakes = cluster_intakes(form, CLUSTER[:4])
    repeat = form(INTAKE, dict(INTAKE_VALUES, customer_name="客户0", phone="13900000000", target="营业厅窗口",
                               received_at=CLUSTER[4], content="再次投诉"))
    tousu("process", *intakes, repeat)
    assert not any(s["suspected_major"] for s in cases(workspace).values())


def test_feedback_confirms_or_clears_the_suspicion(tousu, form, workspace):
    tousu("process", *cluster_intakes(form, CLUSTER))
    confirm = dict(FEEDBACK_VALUES, number="TS2026110001", customer_name="客户0", phone="13900000000",
                   target="营业厅 窗口", received_at=CLUSTER[0], content="窗口排队两小时无人办理")
    clear = dict(confirm, number="TS2026110002", customer_name="客户1", phone="13900000001",
                 received_at=CLUSTER[1], responsibility="非责任")
    code, lines, _ = tousu("process", form(FEEDBACK, confirm), form(FEEDBACK, clear))
    assert lines[0]["problems"] == [] and lines[1]["problems"] == []
    assert (lines[0]["severity"], lines[0]["suspected_major"]) == ("重大", False)
    assert (lines[1]["severity"], lines[1]["suspected_major"]) == ("非重大", False)
    assert cases(workspace)["TS2026110003"]["suspected_major"] is True


def test_automation_never_downgrades_staff_major(tousu, form, workspace):
    code, lines, _ = tousu("process", form(INTAKE, dict(INTAKE_VALUES, severity="重大", major_rules=(2,))))
    assert lines[0]["major_reasons"] == ["规则2：以辱骂、殴打等恶劣方式对待客户"]
    code, lines, _ = tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, responsibility="非责任", **REVIEWED)))
    assert (lines[0]["severity"], lines[0]["suspected_major"]) == ("重大", False)
    assert lines[0]["deadlines"]["investigation"] == "2026-11-22T23:59:59"


def test_rule_reasons_survive_later_forms(tousu, form, workspace):
    dates = [datetime(2026, 11, d, 9) for d in (1, 5, 9)]
    tousu("process", *[form(INTAKE, dict(INTAKE_VALUES, received_at=d, content=str(d))) for d in dates])
    code, lines, _ = tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, number="TS2026110003",
                                                          received_at=dates[2], content=str(dates[2]))))
    assert lines[0]["severity"] == "重大" and lines[0]["major_reasons"][0].startswith("规则8")
