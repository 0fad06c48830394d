"""Automatic major classification (seed §1.2): rule 8 — the same customer a 3rd time or more within
repeat_window_days; rule 9 — cluster_people or more distinct customers about the same 投诉对象 within
any cluster_hours. Both concern 责任投诉, so they make a case *suspected* major until a feedback
confirms 责任 (cases.derive decides). Computed over the whole group each time, so the result does not
depend on the order the forms arrived in and a rebuild reproduces it."""
from datetime import datetime, timedelta

SEED_RULES = {
    1: "因服务不当导致安全事故或财产损失", 2: "以辱骂、殴打等恶劣方式对待客户",
    3: "要挟、刁难客户，提出不合理条件或故意借口拖延", 4: "要求客户提供劳力、运输工具及其它方便",
    5: "在规定收费标准外擅自向客户收取其他费用", 6: "以“气”谋私，索取或非法收受客户财物",
    7: "责任投诉被当地政府、主管部门通报或权威媒体曝光", 8: "客户3次及以上重复投诉",
    9: "同一责任投诉在48小时内有5人及以上投诉",
}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def repeat_customer(cases: list, window_days: int) -> dict:
    """{number: reason} for every case that is its customer's 3rd or later within the window.
    `cases`: one customer's [(number, received_at)]."""
    ordered = sorted(cases, key=lambda c: (c[1], c[0]))
    found = {}
    for index, (number, received) in enumerate(ordered):
        earlier = [n for n, r in ordered[:index + 1] if received - r < timedelta(days=window_days)]
        if len(earlier) >= 3:
            found[number] = {"rule": 8, "since": received.isoformat(timespec="seconds"),
                             "text": f"规则8：同一客户{window_days}日内第{len(earlier)}次投诉（{'、'.join(earlier)}）"}
    return found


def cluster(cases: list, hours: int, people: int) -> dict:
    """{number: reason} for every case inside a window of `hours` with `people` or more distinct
    customers. `cases`: one 投诉对象's [(number, received_at, customer_key)]."""
    ordered = sorted(cases, key=lambda c: (c[1], c[0]))
    found = {}
    for start, (_, opened, _) in enumerate(ordered):
        window = [c for c in ordered[start:] if c[1] - opened <= timedelta(hours=hours)]
        customers, trigger = set(), None
        for number, received, who in window:
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


def reclassify(journal, number: str, policy) -> list:
    """Recompute rules 8 and 9 around one case; returns the numbers whose reasons changed."""
    settings = policy.section("classification")
    case = journal.case(number)
    changed = []
    groups = []
    if case["customer_key"]:
        peers = journal.cases_where("customer_key", case["customer_key"])
        groups.append((8, peers, repeat_customer([(c["number"], _moment(c["received_at"])) for c in peers],
                                                 settings["repeat_window_days"])))
    if case["target_key"]:
        peers = journal.cases_where("target_key", case["target_key"])
        groups.append((9, peers, cluster([(c["number"], _moment(c["received_at"]), c["customer_key"] or c["number"])
                                          for c in peers], settings["cluster_hours"], settings["cluster_people"])))
    for rule, peers, found in groups:
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
