"""Forms that follow an intake (反馈单, 回访记录单, 延期申请单, 申诉单): they name a registered case by
its 投诉编号 and are checked against it — copied fields, dates, the appeal window."""
from datetime import datetime, time

from .cases import CaseState
from .deadlines import Deadlines
from .errors import FormRefused
from .forms.kinds import CLOCK_SKEW
from .forms.labels import normalise
from .forms.values import normalise_phone
from .intake import Assessment, plain
from .problems import defect, error


def assess_followup(reading, env) -> Assessment:
    facts = {key: plain(fv.value) for key, fv in reading.fields.items()}
    return Assessment(reading.kind.key, None, facts, None, None, Deadlines(), "", facts["number"], reading.problems)


def _same(key: str, intake_value, value) -> bool:
    if intake_value in (None, "") or value in (None, ""):
        return True
    if key == "phone":
        return bool(set(normalise_phone(intake_value)) & set(normalise_phone(value)))
    if key == "received_at":
        before, after = datetime.fromisoformat(intake_value), datetime.fromisoformat(value)
        return before == after or (after.time() == time(0) and before.date() == after.date())
    return normalise(intake_value) == normalise(value)


def _compare_copies(reading, intake: dict) -> None:
    for spec in reading.kind.fields:
        if spec.copy_of is None:
            continue
        value, expected = reading.fields[spec.key].value, intake.get(spec.copy_of)
        if not _same(spec.key, expected, value if not isinstance(value, datetime) else plain(value)):
            shown = expected.replace("T", " ") if spec.key == "received_at" else expected
            reading.add(defect(spec.label, reading.where(spec.key),
                               f"与受理记录单不一致：受理记录为「{shown}」。已以受理记录为准，请核对更正。"))


def _check_dates(reading, case: dict, arrived_at: datetime) -> None:
    key = reading.kind.dated
    value = reading.value(key) if key else None
    if value is None:
        return
    received = datetime.fromisoformat(case["received_at"])
    label, where = reading.label(key), reading.where(key)
    if value.date() < received.date():
        reading.add(defect(label, where, f"{label}早于受理时间（{received:%Y-%m-%d %H:%M}），请核对。"))
    if value > arrived_at + CLOCK_SKEW:
        reading.add(defect(label, where, f"{label}晚于表单送达时间（{arrived_at:%Y-%m-%d %H:%M}），请核对。"))


def _check_appeal_window(reading, state: CaseState, policy, arrived_at: datetime) -> None:
    """Seed 7.2: an appeal is filed within the window the final judgement opened."""
    due = state.deadlines.appeal
    label, where = reading.label("appeal_date"), reading.where("appeal_date")
    if not due:
        raise FormRefused([error(label, where, "该投诉尚未反馈终审判定结果，暂不能申诉；请在收到判定结果后提交。")])
    if reading.value("appeal_date") > due:
        window = policy.stage_name("appeal")
        raise FormRefused([error(label, where, f"申诉日期已超过{window}时限（{due:%Y-%m-%d %H:%M}），"
                                               f"按办法第7.2条逾期不予受理。")])


def _check_extension_in_time(reading, state: CaseState, policy, arrived_at: datetime) -> None:
    """SPEC §5: an extension filed after a deadline it would move is accepted with a defect; that
    stage stays late (cases.derive moves only what is still open and not yet passed)."""
    passed = state.overdue(arrived_at, policy.unit_stages)
    if passed:
        stages = "、".join(f"{policy.stage_name(s)}（{due:%Y-%m-%d %H:%M}）" for s, due in passed)
        reading.add(defect(reading.label("extend_to"), reading.where("extend_to"),
                           f"延期申请在时限已过之后才提交：{stages}。已受理，但该环节不予延期，仍计为超时；"
                           f"延期须在时限届满前申请。"))


# What a follow-up kind checks against its case before it is filed (beyond copies and dates).
CASE_CHECKS = {"appeal_window": _check_appeal_window, "extension_in_time": _check_extension_in_time}


def register_followup(journal, policy, assessment: Assessment, reading, arrived_at) -> tuple[str, int]:
    number = assessment.stated_number
    case = journal.case(number)
    if case is None:
        raise FormRefused([error("投诉编号", reading.where("number"),
                                 f"投诉编号「{number}」没有对应的受理记录，请核对编号（见受理回执），"
                                 f"或先提交客户投诉受理记录单。")])
    if reading.kind.case_check:
        CASE_CHECKS[reading.kind.case_check](reading, CaseState.from_json(case["state"]), policy, arrived_at)
    _compare_copies(reading, case["facts"])
    _check_dates(reading, case, arrived_at)
    return number, journal.next_version(number, assessment.kind)
