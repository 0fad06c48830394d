"""附件1 受理记录单: what an intake means for the case (severity, deadline class, deadlines,
customer identity) and how it is registered under a number."""
from dataclasses import dataclass, field
from datetime import date, datetime

from .deadlines import DeadlineRules, Deadlines
from .errors import FormRefused
from .forms.labels import normalise
from .forms.values import normalise_phone
from .numbering import NumberPattern
from .problems import defect, error


def plain(value):
    """A field value as JSON: dates as ISO text, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def customer_key(phone: str | None, name: str | None, address: str | None) -> str:
    """Who complains: the first phone's digits, else name + address (normalised)."""
    phones = normalise_phone(phone or "")
    if phones:
        return "tel:" + phones[0].replace("-", "")
    if name or address:
        return "who:" + normalise(name) + "|" + normalise(address)
    return ""


@dataclass
class Assessment:
    """The facts one form contributes, ready to be registered."""
    kind: str
    received_at: datetime
    facts: dict
    severity: str
    channel_class: str
    deadlines: Deadlines
    customer_key: str
    stated_number: str | None
    problems: list = field(default_factory=list)


def assess_intake(reading, env) -> Assessment:
    values = {key: fv.value for key, fv in reading.fields.items()}
    channel_class, _ = env.policy.channel_class(values["channel"])
    deadlines = DeadlineRules(env.policy).intake(channel_class, values["severity"], values["received_at"],
                                                 values["required_date"])
    number = reading.fields["number"]
    if not number.found:
        reading.add(defect(number.spec.label, "", "表单上没有投诉编号栏，系统编号只记在回执与档案中；"
                                                  "请使用标准模板。"))
    facts = {key: plain(value) for key, value in values.items()}
    facts["channel_class"] = channel_class
    return Assessment("intake", values["received_at"], facts, values["severity"], channel_class, deadlines,
                      customer_key(values["phone"], values["customer_name"], values["address"]),
                      values["number"], reading.problems)


def _same_customer(case: dict, assessment: Assessment) -> bool:
    if not case["customer_key"] or not assessment.customer_key:
        return True
    if case["customer_key"] == assessment.customer_key:
        return True
    before, now = case["facts"].get("customer_name"), assessment.facts.get("customer_name")
    return bool(before) and normalise(before) == normalise(now)


def _renumbered(journal, assessment: Assessment) -> str | None:
    """The number an earlier version of this intake got in place of the same foreign number (a
    re-submission of the clerk's own file): a case of the same customer with that 原编号."""
    if not assessment.customer_key:
        return None
    return next((peer["number"] for peer in journal.peers("customer_key", assessment.customer_key)
                 if journal.case(peer["number"])["facts"].get("original_number") == assessment.stated_number), None)


def register_intake(journal, pattern: NumberPattern, assessment: Assessment, reading, arrived_at) -> tuple[str, int]:
    """(number, version) for the intake; inside the journal transaction. A number on the form is kept
    only when tousu issued it (a re-submission); one it never issued is kept as 原编号 and the intake
    is numbered like a blank one, so a typo never moves the sequence."""
    where = reading.where("number")
    number = assessment.stated_number
    case = journal.case(number) if number else None
    if case is not None and not _same_customer(case, assessment):
        owner = case["facts"].get("customer_name") or "未具名"
        raise FormRefused([error("投诉编号", where,
                                 f"投诉编号「{number}」已属于另一位客户的投诉（{owner}），"
                                 f"请核对编号；新投诉请留空由系统编号。")])
    if case is None:
        number = (number and _renumbered(journal, assessment)) or journal.issue_number(pattern, assessment.received_at)
        if assessment.stated_number:
            assessment.facts.update(number=None, original_number=assessment.stated_number)
            assessment.problems.append(defect("投诉编号", where,
                                              f"投诉编号「{assessment.stated_number}」不是本系统编发的编号，已另行编号 "
                                              f"{number}，原编号已记录。"))
    journal.put_case(number, assessment.received_at, assessment.customer_key,
                     normalise(assessment.facts.get("target")), assessment.facts)
    return number, journal.next_version(number, "intake")
