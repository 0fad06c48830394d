"""Automatic major classification (seed §1.2): rule 8 — the same customer a 3rd time or more within
repeat_window_days; rule 9 — cluster_people or more distinct customers about the same 投诉对象 within
any cluster_hours. Both concern 责任投诉, so they make a case *suspected* major until a feedback
confirms 责任 (cases.derive decides). Computed over the whole group each time, so the result does not
depend on the order the forms arrived in and a rebuild reproduces it."""
from bisect import bisect_right
from datetime import datetime, timedelta
from typing import Any, TypedDict

from .journal import Journal
from .policy import Classification, Policy

SEED_RULES = {
    1: "因服务不当导致安全事故或财产损失", 2: "以辱骂、殴打等恶劣方式对待客户",
    3: "要挟、刁难客户，提出不合理条件或故意借口拖延", 4: "要求客户提供劳力、运输工具及其它方便",
    5: "在规定收费标准外擅自向客户收取其他费用", 6: "以“气”谋私，索取或非法收受客户财物",
    7: "责任投诉被当地政府、主管部门通报或权威媒体曝光", 8: "客户3次及以上重复投诉",
    9: "同一责任投诉在48小时内有5人及以上投诉",
}


class Reason(TypedDict):
    """Why a rule made a case (suspected) major, as stored in the journal's `auto`."""
    rule: int
    since: str
    text: str


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def repeat_customer(cases: list[tuple[str, datetime]], window_days: int) -> dict[str, Reason]:
    """{number: reason} for every case that is its customer's 3rd or later within the window.
    `cases`: one customer's [(number, received_at)]."""
    ordered = sorted(cases, key=lambda c: (c[1], c[0]))
    moments = [c[1] for c in ordered]
    found: dict[str, Reason] = {}
    for index, (number, received) in enumerate(ordered):
        first = bisect_right(moments, received - timedelta(days=window_days))   # strictly inside the window
        earlier = [n for n, _ in ordered[first:index + 1]]
        if len(earlier) >= 3:
            found[number] = {"rule": 8, "since": received.isoformat(timespec="seconds"),
                             "text": f"规则8：同一客户{window_days}日内第{len(earlier)}次投诉（{'、'.join(earlier)}）"}
    return found


def cluster(cases: list[tuple[str, datetime, str]], hours: int, people: int) -> dict[str, Reason]:
    """{number: reason} for every case inside a window of `hours` with `people` or more distinct
    customers. `cases`: one 投诉对象's [(number, received_at, customer_key)]."""
    ordered = sorted(cases, key=lambda c: (c[1], c[0]))
    moments = [c[1] for c in ordered]
    found: dict[str, Reason] = {}
    for start, (_, opened, _) in enumerate(ordered):
        window = ordered[start:bisect_right(moments, opened + timedelta(hours=hours))]
        customers: set[str] = set()
        trigger: datetime | None = None
        for _, received, who in window:
            customers.add(who)
            if trigger is None and len(customers) >= people:
                trigger = received
        if trigger is None:
            continue
        for number, received, _ in window:
            since = max(trigger, received).isoformat(timespec="seconds")
            if number not in found or since < found[number]["since"]:
                found[number] = {"rule": 9, "since": since,
                                 "text": f"规则9：{hours}小时内{len(customers)}位客户投诉同一对象"}
    return found


def _apply(journal: Journal, rule: int, peers: list[dict[str, Any]], found: dict[str, Reason]) -> list[str]:
    """Store rule `rule`'s reasons on the peers; returns the numbers whose reasons changed."""
    changed = []
    for peer in peers:
        auto = dict(peer["auto"])
        reason = found.get(peer["number"])
        if reason is None:
            auto.pop(str(rule), None)
        else:
            auto[str(rule)] = reason
        if auto != peer["auto"]:
            journal.set_auto(peer["number"], auto)
            changed.append(peer["number"])
    return changed


def _repeat_group(journal: Journal, key: str, settings: Classification) -> list[str]:
    peers = journal.peers("customer_key", key)
    found = repeat_customer([(p["number"], _moment(p["received_at"])) for p in peers], settings.repeat_window_days)
    return _apply(journal, 8, peers, found)


def _cluster_group(journal: Journal, key: str, settings: Classification) -> list[str]:
    peers = journal.peers("target_key", key)
    found = cluster([(p["number"], _moment(p["received_at"]), p["customer_key"] or p["number"]) for p in peers],
                    settings.cluster_hours, settings.cluster_people)
    return _apply(journal, 9, peers, found)


def reclassify(journal: Journal, number: str, policy: Policy) -> list[str]:
    """Recompute rules 8 and 9 around one case; returns the numbers whose reasons changed."""
    settings = policy.classification
    case = journal.case(number)
    changed = []
    if case["customer_key"]:
        changed += _repeat_group(journal, case["customer_key"], settings)
    if case["target_key"]:
        changed += _cluster_group(journal, case["target_key"], settings)
    return changed


def reclassify_all(journal: Journal, policy: Policy) -> None:
    """Rules 8 and 9 over every customer and every target once (the rebuild's pass)."""
    settings = policy.classification
    for key in journal.distinct_keys("customer_key"):
        _repeat_group(journal, key, settings)
    for key in journal.distinct_keys("target_key"):
        _cluster_group(journal, key, settings)
