"""Properties of the pure rules, tried on many generated cases (hypothesis):
- classification (rules 8 and 9) does not depend on the order in which complaints arrive;
- an open deadline never moves earlier when a case only gains forms that leave its severity as it was
  (feedbacks that are not 重大, callbacks, extensions, appeals upheld); a form raising the severity may
  bring deadlines forward by design (SPEC §5: the major limits apply from the moment they apply), and a
  不满意 callback opens a new round of handling with a deadline of its own (seed 6.3);
- a number pattern formats and parses back."""
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.cases import derive
from toolkit.classify import cluster, repeat_customer
from toolkit.numbering import NumberPattern
from toolkit.policy import load_policy

POLICY = load_policy()
START = datetime(2026, 3, 2, 8, 0)
moments = st.integers(0, 60 * 24 * 20).map(lambda minutes: START + timedelta(minutes=minutes))


@settings(max_examples=200, deadline=None)
@given(cases=st.lists(moments, min_size=1, max_size=12), data=st.data())
def test_repeat_customer_does_not_depend_on_arrival_order(cases, data):
    numbered = [(f"TS{i:04d}", moment) for i, moment in enumerate(cases)]
    shuffled = data.draw(st.permutations(numbered))
    assert repeat_customer(shuffled, 90) == repeat_customer(numbered, 90)


@settings(max_examples=200, deadline=None)
@given(cases=st.lists(st.tuples(moments, st.integers(0, 6)), min_size=1, max_size=12), data=st.data())
def test_clusters_do_not_depend_on_arrival_order(cases, data):
    numbered = [(f"TS{i:04d}", moment, f"tel:{who}") for i, (moment, who) in enumerate(cases)]
    shuffled = data.draw(st.permutations(numbered))
    assert cluster(shuffled, 48, 5) == cluster(numbered, 48, 5)


def _iso(moment) -> str:
    return moment.isoformat(timespec="seconds")


def _form(kind: str, day: int, choice: int) -> dict:
    """A follow-up form that leaves the case's severity as it is."""
    arrived = START + timedelta(days=day, hours=9)
    facts = {
        "feedback": {"feedback_date": _iso(arrived), "completion": ("已办结", "未办结")[choice % 2],
                     "promised_date": (arrived.date() + timedelta(days=5)).isoformat(), "responsibility": "责任",
                     "severity": "非重大", "final_review": "同意" if choice % 3 else "", "unit": "客户创值赋能群"},
        "callback": {"callback_date": _iso(arrived), "evaluation": ("满意", "基本满意", "不满意")[choice % 3]},
        "extension": {"extend_to": (arrived.date() + timedelta(days=choice % 7)).isoformat(),
                      "approval": ("同意", "不同意", None)[choice % 3], "unit": "客户创值赋能群"},
        "appeal": {"appeal_date": _iso(arrived), "ruling": "维持", "unit": "客户创值赋能群"},
    }[kind]
    return {"kind": kind, "version": 1, "facts": facts, "arrived_at": _iso(arrived)}


FORMS = st.lists(st.tuples(st.sampled_from(("feedback", "callback", "extension", "appeal")), st.integers(0, 12),
                           st.integers(0, 5)), max_size=8)


@settings(max_examples=300, deadline=None)
@given(steps=FORMS, channel=st.sampled_from(("自有渠道", "监督热线批转")), severity=st.sampled_from(("重大", "非重大")))
def test_deadlines_never_move_earlier_when_a_case_only_gains_forms(steps, channel, severity):
    case = {"number": "TS2026030001", "auto": {},
            "facts": {"received_at": _iso(START), "channel_class": channel, "severity": severity,
                      "unit": "客户创值赋能群", "required_date": None}}
    forms = sorted((_form(*step) for step in steps), key=lambda f: f["arrived_at"])
    before = derive(case, [], POLICY)
    for count in range(1, len(forms) + 1):
        after = derive(case, forms[:count], POLICY)
        for stage in ("investigation", "handling", "promise"):
            old, new = getattr(before.deadlines, stage, None), getattr(after.deadlines, stage, None)
            still_open = stage not in before.met and stage not in after.met
            if old is not None and new is not None and still_open:
                assert new >= old, (stage, old, new, forms[:count])
        before = after


@given(moment=st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)), seq=st.integers(1, 99999))
def test_numbers_format_and_parse_back(moment, seq):
    pattern = NumberPattern("TS{YYYY}{MM}{seq:04d}")
    number = pattern.format(moment, seq)
    assert pattern.matches(number) and pattern.split(number) == (f"TS{moment:%Y%m}*", seq)
    assert len(number) == len("TS202611") + max(4, len(str(seq)))
