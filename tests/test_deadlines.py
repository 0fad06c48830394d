"""附件3 deadlines worked out by hand from the seed and SPEC §5."""
from datetime import date, datetime, timedelta

import pytest

from toolkit.calendar import WorkCalendar
from toolkit.deadlines import STAGE_NAMES, UNIT_STAGES, DeadlineRules, Deadlines
from toolkit.errors import CalendarError, PolicyError
from toolkit.policy import load_policy


@pytest.fixture
def rules():
    return DeadlineRules(load_policy())


def test_own_channel_minor_natural_days(rules):
    # received Fri 2026-11-20 15:30: day 0 is the 20th; 3 days -> 23rd; handling 3 more -> 26th
    d = rules.intake("自有渠道", "非重大", datetime(2026, 11, 20, 15, 30))
    assert d.to_json() == {"investigation": "2026-11-23T23:59:59", "handling": "2026-11-26T23:59:59",
                           "callback": None, "appeal": None}
    assert list(d.to_json(STAGE_NAMES)) == ["investigation", "handling", "promise", "callback", "appeal"]


def test_unit_stages_are_every_stage_but_callback_and_appeal():
    assert UNIT_STAGES == ("investigation", "handling", "promise") and STAGE_NAMES["promise"] == "承诺办结"


def test_hotline_major_is_one_day_each(rules):
    d = rules.intake("监督热线批转", "重大", datetime(2026, 11, 18, 9, 5))
    assert (d.investigation, d.handling) == (datetime(2026, 11, 19, 23, 59, 59), datetime(2026, 11, 20, 23, 59, 59))


def test_own_channel_major_two_days(rules):
    d = rules.intake("自有渠道", "重大", datetime(2026, 11, 30, 23, 50))
    assert (d.investigation, d.handling) == (datetime(2026, 12, 2, 23, 59, 59), datetime(2026, 12, 4, 23, 59, 59))


def test_external_transfer_uses_required_date_or_falls_back_to_own_channel_limits(rules):
    d = rules.intake("外部批转", "非重大", datetime(2026, 11, 16, 10), date(2026, 11, 21))
    assert d.investigation == d.handling == datetime(2026, 11, 21, 23, 59, 59)
    # no 要求办结日期: [deadlines] fallback_class = 自有渠道; 重大 2 + 2 from 11-16 (was: no deadline at all)
    d = rules.intake("外部批转", "重大", datetime(2026, 11, 16, 10))
    assert (d.investigation, d.handling) == (datetime(2026, 11, 18, 23, 59, 59), datetime(2026, 11, 20, 23, 59, 59))
    assert rules.reopened("外部批转", "非重大", datetime(2026, 11, 25, 9)) == datetime(2026, 11, 28, 23, 59, 59)


def test_fallback_class_is_a_policy_key_and_must_name_day_limits(tmp_path):
    assert load_policy().fallback_class == "自有渠道"
    (tmp_path / "policy.toml").write_text('[deadlines]\nfallback_class = "监督热线批转"\n', encoding="utf-8")
    rules = DeadlineRules(load_policy(tmp_path / "policy.toml"))
    assert rules.intake("外部批转", "非重大", datetime(2026, 11, 16, 10)).handling == datetime(2026, 11, 20, 23, 59, 59)
    for bad in ("外部批转", "不存在"):
        (tmp_path / "policy.toml").write_text(f'[deadlines]\nfallback_class = "{bad}"\n', encoding="utf-8")
        with pytest.raises(PolicyError, match="fallback_class"):
            load_policy(tmp_path / "policy.toml")
    (tmp_path / "policy.toml").write_text('[deadlines]\nrequired_date_field = "要求办结日期"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match="required_date_field"):       # the dead key is gone
        load_policy(tmp_path / "policy.toml")


def test_callback_second_callback_and_appeal(rules):
    assert rules.callback("自有渠道", "非重大", datetime(2026, 11, 25, 16)) == datetime(2026, 11, 28, 23, 59, 59)
    promised = Deadlines(promise=rules.promise(date(2026, 12, 5)))
    assert (promised.promise, promised.second_callback) == \
        (datetime(2026, 12, 5, 23, 59, 59), datetime(2026, 12, 6, 23, 59, 59))
    assert rules.appeal("监督热线批转", "重大", datetime(2026, 11, 25, 16)) == datetime(2026, 11, 27, 23, 59, 59)


def test_working_calendar_skips_national_day_and_counts_tiaoxiu_saturday():
    # 2026-09-30 Wed; 10-01..10-07 off; 10-08 Thu, 10-09 Fri, 10-10 Sat is a 调休 working day
    rules = DeadlineRules(load_policy(), WorkCalendar("working"))
    d = rules.intake("自有渠道", "非重大", datetime(2026, 9, 30, 10))
    assert d.investigation == datetime(2026, 10, 10, 23, 59, 59)
    # then 10-12 Mon, 10-13 Tue, 10-14 Wed (10-11 Sunday is off)
    assert d.handling == datetime(2026, 10, 14, 23, 59, 59)


def test_working_calendar_unknown_year_names_year_and_fix():
    rules = DeadlineRules(load_policy(), WorkCalendar("working"))
    with pytest.raises(CalendarError) as caught:
        rules.intake("自有渠道", "非重大", datetime(2026, 12, 30, 10))
    message = str(caught.value)
    assert "2027" in message and "[calendar]" in message and "years" in message


def test_policy_years_make_an_unknown_year_usable():
    calendar = WorkCalendar("working", holidays=frozenset({date(2027, 1, 1)}), years=frozenset({2027}))
    rules = DeadlineRules(load_policy(), calendar)
    # 12-30 Wed; 12-31 Thu (1), 2027-01-01 Fri holiday, 01-04 Mon (2), 01-05 Tue (3)
    assert rules.intake("自有渠道", "非重大", datetime(2026, 12, 30, 10)).investigation == \
        datetime(2027, 1, 5, 23, 59, 59)


def test_hour_based_limits_are_expressible(tmp_path):
    (tmp_path / "policy.toml").write_text(
        '[deadlines.classes."自有渠道"."重大"]\ninvestigation = "30min"\nhandling = "2h"\n'
        'callback = "15min"\nappeal = 3\n', encoding="utf-8")
    rules = DeadlineRules(load_policy(tmp_path / "policy.toml"))
    d = rules.intake("自有渠道", "重大", datetime(2026, 11, 20, 15, 30))
    assert (d.investigation, d.handling) == (datetime(2026, 11, 20, 16, 0), datetime(2026, 11, 20, 18, 0))
    assert rules.callback("自有渠道", "重大", datetime(2026, 11, 20, 18)) == datetime(2026, 11, 20, 18, 15)


def test_bad_limit_is_a_policy_error(tmp_path):
    (tmp_path / "policy.toml").write_text('[deadlines.classes."自有渠道"."重大"]\ninvestigation = "soon"\n',
                                          encoding="utf-8")
    with pytest.raises(PolicyError, match="investigation"):
        load_policy(tmp_path / "policy.toml")


def test_due_cli_json(tousu):
    code, lines, _ = tousu("due", "--channel", "客服热线", "--severity", "非重大", "--received", "2026-11-20 15:30")
    assert code == 0
    assert lines == [{"deadlines": {"investigation": "2026-11-23T23:59:59", "handling": "2026-11-26T23:59:59",
                                    "callback": None, "appeal": None}}]


def test_due_cli_working_calendar_from_workspace_policy(tousu, workspace):
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[deadlines]\ncalendar = "working"\n', encoding="utf-8")
    code, lines, _ = tousu("due", "--channel", "投诉专线 0593-2856677", "--severity", "非重大",
                           "--received", "2026年9月30日10时")
    assert code == 0 and lines[0]["deadlines"]["investigation"] == "2026-10-10T23:59:59"


def test_due_cli_unknown_year_exits_2(tousu, workspace):
    workspace.mkdir()
    (workspace / "policy.toml").write_text('[deadlines]\ncalendar = "working"\n', encoding="utf-8")
    code, _, output = tousu("due", "--channel", "客服热线", "--severity", "重大", "--received", "2026-12-31 10:00")
    assert code == 2 and "2027" in output


def test_end_of_day_is_policy_driven(tmp_path):
    (tmp_path / "policy.toml").write_text('[deadlines]\nend_of_day = "17:30:00"\n', encoding="utf-8")
    d = DeadlineRules(load_policy(tmp_path / "policy.toml")).intake("自有渠道", "非重大", datetime(2026, 11, 20, 8))
    assert d.investigation == datetime(2026, 11, 23, 17, 30) and d.handling - d.investigation == timedelta(days=3)


def test_due_cli_for_a_transfer_without_required_date_falls_back(tousu):
    # 12345 is a 外部批转 channel; no --required-date: 自有渠道 非重大 3 + 3 from 11-20 (was: all null)
    code, lines, _ = tousu("due", "--channel", "市政府12345热线批转", "--severity", "非重大",
                           "--received", "2026-11-20 15:30")
    assert code == 0 and lines[0]["deadlines"] == {"investigation": "2026-11-23T23:59:59",
                                                   "handling": "2026-11-26T23:59:59", "callback": None,
                                                   "appeal": None}
