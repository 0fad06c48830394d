"""Several offices on one PostgreSQL journal: numbers per office, never twice across hosts; rebuild and
verify per office; rules 8/9 per office or group-wide; what happens while the server is down."""
import json
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import INTAKE_VALUES, NOW
from pg import database, own_server

from toolkit.cli import main
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.journal_pg import PgStore
from toolkit.numbering import NumberPattern
from toolkit.watcher import Watcher
from toolkit.workspace import Workspace

PATTERN = "TS{office}{YYYY}{MM}{seq:04d}"


def office(root: Path, code: str, url: str, extra: str = "") -> Path:
    """An office's workspace on the group's journal server."""
    root.mkdir(parents=True)
    (root / "policy.toml").write_text(f'[numbering]\npattern = "{PATTERN}"\n\n[journal]\nurl = "{url}"\n\n'
                                      f'{extra}[office]\ncode = "{code}"\n', encoding="utf-8")
    return root


def cli(root: Path, *args) -> tuple[int, list]:
    result = CliRunner().invoke(main, [*map(str, args), "-w", str(root), "--json"], env={"TOUSU_NOW": NOW})
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def intake(tmp_path: Path, name: str, **changes) -> Path:
    return build(INTAKE, dict(INTAKE_VALUES, **changes), tmp_path / f"{name}.xlsx")


@pytest.fixture
def group(tmp_path, monkeypatch):
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    url = database()
    return url, office(tmp_path / "三明", "SM", url), office(tmp_path / "龙岩", "LY", url)


def test_each_office_numbers_its_own_cases_with_its_code(group, tmp_path):
    url, sm, ly = group
    assert cli(sm, "db", "init")[1] == [{"server": PgStore(url, "SM").location.split("（")[0] + "（单位 SM）",
                                         "office": "SM", "schema": "office_sm", "offices": ["SM"]}]
    numbers = {}
    for root, n in ((sm, 3), (ly, 2)):
        code, lines = cli(root, "process", *[intake(tmp_path, f"{root.name}{i}", phone=f"1380000{i:04d}")
                                             for i in range(n)])
        assert code == 0
        numbers[root.name] = [line["number"] for line in lines]
    assert numbers == {"三明": ["TSSM2026110001", "TSSM2026110002", "TSSM2026110003"],
                       "龙岩": ["TSLY2026110001", "TSLY2026110002"]}
    assert (sm / "archive/2026/11/TSSM2026110003").is_dir() and not (sm / ".tousu/journal.sqlite3").exists()
    assert json.loads((sm / "archive/.counters.json").read_text())["sequences"] == {"TSSM202611*": 3}
    assert cli(sm, "verify")[1] == [{"ok": True, "findings": []}]
    assert cli(ly, "verify")[1] == [{"ok": True, "findings": []}]


def test_hosts_issuing_numbers_at_once_never_share_one_and_leave_no_gap(group):
    """Four 'hosts' of one office and one of another, each its own connection, no workspace lock."""
    url = group[0]
    pattern, moment = NumberPattern("TSSM{YYYY}{MM}{seq:04d}"), datetime(2026, 11, 21, 9)
    issued: dict = {"SM": [], "LY": []}

    def host(code: str, count: int):
        journal = PgStore(url, code).open()
        for _ in range(count):
            with journal.transaction():
                issued[code].append(journal.issue_number(pattern, moment))
        journal.close()
    hosts = [threading.Thread(target=host, args=("SM", 40)) for _ in range(4)] + \
        [threading.Thread(target=host, args=("LY", 40))]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(timeout=120)
    assert sorted(issued["SM"]) == [f"TSSM202611{i:04d}" for i in range(1, 161)]
    assert sorted(issued["LY"]) == [f"TSSM202611{i:04d}" for i in range(1, 41)]    # its own sequence


def test_rebuilding_one_office_rewrites_only_its_rows(group, tmp_path):
    url, sm, ly = group
    cli(sm, "process", intake(tmp_path, "a"), intake(tmp_path, "b", phone="13900000000"))
    cli(ly, "process", intake(tmp_path, "c"))
    before = {root.name: Workspace.open(root).journal.snapshot() for root in (sm, ly)}
    (sm / "archive/2026/11/TSSM2026110002").rename(tmp_path / "moved-away")    # SM's archive loses a case
    assert cli(sm, "ledger", "rebuild")[0] == 0
    after = {root.name: Workspace.open(root).journal.snapshot() for root in (sm, ly)}
    assert after["龙岩"] == before["龙岩"]
    assert sorted(after["三明"]["cases"]) == ["TSSM2026110001"]
    assert after["三明"]["counters"] == before["三明"]["counters"]               # the number stays used
    assert cli(sm, "verify")[1] == [{"ok": True, "findings": []}]


def _third_complaint(group, tmp_path, scope: str) -> dict:
    url, sm, ly = group
    for root in (sm, ly):
        policy = root / "policy.toml"
        policy.write_text(policy.read_text(encoding="utf-8") + f'\n[classification]\nscope = "{scope}"\n',
                          encoding="utf-8")
    cli(sm, "process", intake(tmp_path, "1", received_at=datetime(2026, 9, 1, 9), content="第1次"),
        intake(tmp_path, "2", received_at=datetime(2026, 10, 15, 9), content="第2次"))
    return cli(ly, "process", intake(tmp_path, "3", received_at=datetime(2026, 11, 20, 15, 30), content="第3次"))[1][0]


def test_rule_8_counts_this_office_only_by_default(group, tmp_path):
    third = _third_complaint(group, tmp_path, "office")
    assert (third["number"], third["suspected_major"], third["major_reasons"]) == ("TSLY2026110001", False, [])


def test_rule_8_counts_every_office_when_the_scope_is_the_group(group, tmp_path):
    third = _third_complaint(group, tmp_path, "group")
    assert third["suspected_major"] is True
    assert third["major_reasons"] == ["规则8：同一客户90日内第3次投诉（TSSM2026090001、TSSM2026100001、TSLY2026110001）"]
    _, sm, ly = group
    assert cli(ly, "verify")[1] == [{"ok": True, "findings": []}]                # the rebuild sees SM too
    assert cli(sm, "verify")[1] == [{"ok": True, "findings": []}]


def test_group_scope_needs_the_office_in_the_number(group, tmp_path):
    _, sm, _ = group
    (sm / "policy.toml").write_text((sm / "policy.toml").read_text(encoding="utf-8").replace(PATTERN, "TS{YYYY}{seq:04d}")
                                    + '\n[classification]\nscope = "group"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["process", "-w", str(sm), str(intake(tmp_path, "x"))], env={"TOUSU_NOW": NOW})
    assert result.exit_code == 2 and "{office}" in result.output


def test_group_report_and_scores_are_the_sums_of_the_offices(group, tmp_path):
    url, sm, ly = group
    cli(sm, "process", intake(tmp_path, "a"), intake(tmp_path, "b", phone="13900000000"))
    cli(ly, "process", intake(tmp_path, "c"), intake(tmp_path, "d", received_at=datetime(2026, 10, 3, 9)))
    single = {root.name: cli(root, "report", "--month", "2026-11")[1][0] for root in (sm, ly)}
    code, [grouped] = cli(sm, "report", "--month", "2026-11", "--group")
    assert code == 0 and grouped["report"] == "reports/集团服务月报-2026-11.xlsx"
    for name, mine in (("SM", single["三明"]), ("LY", single["龙岩"])):
        assert {k: grouped["offices"][name][k] for k in ("cases", "repeat", "open", "rates")} == \
            {k: mine[k] for k in ("cases", "repeat", "open", "rates")}
    assert grouped["total"]["cases"] == 3 == single["三明"]["cases"] + single["龙岩"]["cases"]
    rate = grouped["total"]["rates"]["投诉信息维护合格率"]
    assert (rate["numerator"], rate["denominator"]) == (4, 4)      # forms received in November: the October case's too
    import openpyxl
    book = openpyxl.load_workbook(sm / grouped["report"])
    assert book.sheetnames == ["汇总", "LY", "SM"]
    assert [r for r in book["汇总"].iter_rows(min_row=3, max_col=4, values_only=True)] == \
        [("LY", 1, 0, 1), ("SM", 2, 0, 2), ("集团合计", 3, 0, 3)]
    assert ("客服热线", 2) in list(book["SM"].iter_rows(max_col=2, values_only=True))
    code, [scores] = cli(ly, "score", "--month", "2026-11", "--group")
    assert code == 0 and openpyxl.load_workbook(ly / scores["report"]).sheetnames == ["汇总", "LY", "SM"]
    assert set(scores["offices"]) == {"SM", "LY"}


def test_group_figures_need_the_server(tmp_path):
    result = CliRunner().invoke(main, ["report", "--month", "2026-11", "--group", "-w", str(tmp_path / "ws")],
                                env={"TOUSU_NOW": NOW, "TOUSU_JOURNAL": ""})
    assert result.exit_code == 2 and "PostgreSQL" in result.output


def test_while_the_server_is_down_the_watcher_waits_and_loses_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    server = own_server()
    try:
        root = office(tmp_path / "ws", "SM", server.create_database())
        ws = Workspace.open(root)
        watcher = Watcher(ws, Clock(datetime(2026, 11, 21, 9)), poll=0.1, settle=0.1, rescan=0.2)
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            intake(tmp_path, "first").rename(root / "inbox/first.xlsx")
            _wait_for(lambda: (root / "archive/2026/11/TSSM2026110001").is_dir())
            server.stop()
            intake(tmp_path, "second", phone="13900000000").rename(root / "inbox/second.xlsx")
            time.sleep(3)
            assert watcher.environment and "日志数据库" in watcher.environment
            assert not (root / "archive/2026/11/TSSM2026110002").exists()
            assert list((root / "rejected").iterdir()) == []
            server.start()
            _wait_for(lambda: (root / "archive/2026/11/TSSM2026110002").is_dir() and watcher.environment is None, 60)
        finally:
            watcher.stop()
            thread.join(timeout=60)
        assert list((root / "inbox").iterdir()) == [] and watcher.environment is None
        assert cli(root, "verify")[1] == [{"ok": True, "findings": []}]
    finally:
        ws.close()
        server.destroy()


def test_a_watcher_started_while_the_server_is_down_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    server = own_server()
    try:
        root = office(tmp_path / "ws", "SM", server.create_database())
        cli(root, "db", "init")
        server.stop()
        intake(tmp_path, "first").rename(root / "inbox/first.xlsx")
        ws = Workspace.open(root)
        watcher = Watcher(ws, Clock(datetime(2026, 11, 21, 9)), poll=0.1, settle=0.1, rescan=0.2)
        thread = threading.Thread(target=watcher.run)
        thread.start()
        try:
            time.sleep(3)
            assert thread.is_alive() and watcher.environment and "日志数据库" in watcher.environment
            assert (root / "inbox/first.xlsx").exists() or list((root / ".tousu-claims").iterdir())
            server.start()
            _wait_for(lambda: (root / "archive/2026/11/TSSM2026110001").is_dir() and watcher.environment is None, 60)
        finally:
            watcher.stop()
            thread.join(timeout=60)
        assert list((root / "inbox").iterdir()) == [] and watcher.environment is None
        ws.close()
    finally:
        server.destroy()


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _readme_roles(server) -> tuple[str, str]:
    """Run README's role set-up on `server`; the URLs of the admin and of office SM's role."""
    import psycopg
    with psycopg.connect(server.url(), autocommit=True) as db:
        for statement in _readme_sql("CREATE ROLE tousu_admin LOGIN;"):
            db.execute(statement.replace("PASSWORD '…'", ""))
    return server.url("tousu", "tousu_admin"), server.url("tousu", "tousu_sm")


def _readme_sql(start: str) -> list[str]:
    """The SQL block of README's group section that begins with `start`, as statements."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(start):]
    block = block[:block.index("```")]
    lines = [line.split("--")[0] for line in block.splitlines()]
    return [s.strip() for s in " ".join(lines).split(";") if s.strip()]


def test_the_readme_roles_give_each_office_its_own_journal_only(tmp_path, monkeypatch):
    import psycopg

    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    server = own_server()
    try:
        admin, sm_role = _readme_roles(server)
        sm, ly = office(tmp_path / "三明", "SM", sm_role), office(tmp_path / "龙岩", "LY", admin)
        monkeypatch.setenv("TOUSU_JOURNAL", admin)
        assert cli(sm, "db", "init")[0] == 0 and cli(ly, "db", "init")[0] == 0
        monkeypatch.delenv("TOUSU_JOURNAL")
        with psycopg.connect(admin, autocommit=True) as db:
            for statement in [s for s in _readme_sql("GRANT USAGE ON SCHEMA tousu_group") if "office_ly" not in s]:
                db.execute(statement)
                db.execute(statement.replace("office_sm", "office_ly").replace("tousu_sm", "tousu_admin"))
        code, [receipt] = cli(sm, "process", intake(tmp_path, "a"))
        assert (code, receipt["number"]) == (0, "TSSM2026110001")
        assert cli(sm, "verify")[1] == [{"ok": True, "findings": []}]
        with psycopg.connect(sm_role, autocommit=True) as db, pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute("SELECT * FROM office_ly.cases")
        reader = server.url("tousu", "tousu_group_read")
        with psycopg.connect(reader, autocommit=True) as db:
            assert db.execute("SELECT number FROM office_sm.cases").fetchall() == [("TSSM2026110001",)]
        group = tmp_path / "集团"                                    # the group's own workspace: no office
        group.mkdir()
        (group / "policy.toml").write_text(f'[journal]\nurl = "{reader}"\n', encoding="utf-8")
        code, [figures] = cli(group, "report", "--month", "2026-11", "--group")
        assert (code, figures["total"]["cases"], sorted(figures["offices"])) == (0, 1, ["LY", "SM"])
    finally:
        server.destroy()


def test_offices_filing_at_once_under_the_group_scope_stay_consistent(group, tmp_path):
    """Three customers complain to both offices at the same time: every office's journal equals its
    archive's rebuild (rule 8 reasons across offices included) and each third complaint is suspected major."""
    from toolkit.batch import process_batch
    url, sm, ly = group
    for root in (sm, ly):
        (root / "policy.toml").write_text((root / "policy.toml").read_text(encoding="utf-8")
                                          + '\n[classification]\nscope = "group"\n', encoding="utf-8")
    clock = Clock(datetime(2026, 11, 21, 9))
    forms = {root: [intake(tmp_path, f"{root.name}{c}{k}", phone=f"1390000000{c}", customer_name=f"客户{c}",
                           received_at=datetime(2026, 11, 1 + 2 * k + (root is ly), 9 + c), content=f"{k}")
                    for c in range(3) for k in range(2)] for root in (sm, ly)}
    errors: list = []

    def office_files(root):
        ws = Workspace.open(root)
        try:
            process_batch(ws, forms[root], clock, "host")    # each file under its own lock, then the ledger
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            ws.close()
    hosts = [threading.Thread(target=office_files, args=(root,)) for root in (sm, ly)]
    for host in hosts:
        host.start()
    for host in hosts:
        host.join(timeout=120)
    assert errors == []
    suspected = []
    for root in (sm, ly):
        assert cli(root, "verify")[1] == [{"ok": True, "findings": []}]
        journal = Workspace.open(root).journal
        suspected += [n for n in journal.case_numbers() if journal.case(n)["auto"]]
    # per customer, four complaints (two per office) over 4 days: the 3rd and 4th are rule 8
    assert len(suspected) == 6


def test_a_second_workspace_with_the_same_office_code_is_refused(group, tmp_path):
    url, sm, _ = group
    assert cli(sm, "process", intake(tmp_path, "a"))[0] == 0
    twin = office(tmp_path / "另一个三明", "SM", url)
    result = CliRunner().invoke(main, ["process", "-w", str(twin), str(intake(tmp_path, "b", phone="13900000000"))],
                                env={"TOUSU_NOW": NOW})
    assert result.exit_code == 2 and "每个单位只能有一个工作区" in result.output
    assert sorted(Workspace.open(sm).journal.snapshot()["cases"]) == ["TSSM2026110001"]
    assert cli(sm, "verify")[1] == [{"ok": True, "findings": []}]


def test_the_readme_group_scope_grants_let_an_office_update_another(tmp_path, monkeypatch):
    """SM's role, with README's grants, files a complaint dated between two of LY's: LY's later one becomes
    the customer's third (rule 8), re-derived in LY's journal by SM's transaction."""
    import psycopg
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    server = own_server()
    try:
        admin, sm_role = _readme_roles(server)
        scope = '[classification]\nscope = "group"\n\n'
        sm, ly = office(tmp_path / "三明", "SM", sm_role, scope), office(tmp_path / "龙岩", "LY", admin, scope)
        monkeypatch.setenv("TOUSU_JOURNAL", admin)
        assert cli(sm, "db", "init")[0] == 0 and cli(ly, "db", "init")[0] == 0
        monkeypatch.delenv("TOUSU_JOURNAL")
        with psycopg.connect(admin, autocommit=True) as db:
            for statement in _readme_sql("GRANT USAGE ON SCHEMA tousu_group"):
                db.execute(statement)
        cli(ly, "process", intake(tmp_path, "1", received_at=datetime(2026, 11, 1, 9), content="第1次"),
            intake(tmp_path, "2", received_at=datetime(2026, 11, 5, 9), content="第3次"))
        code, [middle] = cli(sm, "process", intake(tmp_path, "3", received_at=datetime(2026, 11, 3, 9), content="第2次"))
        assert (code, middle["number"], middle["suspected_major"]) == (0, "TSSM2026110001", False)
        later = Workspace.open(ly).journal.case("TSLY2026110002")
        assert later["auto"]["8"]["text"] == "规则8：同一客户90日内第3次投诉（TSLY2026110001、TSSM2026110001、TSLY2026110002）"
        assert later["state"]["suspected_major"] is True
    finally:
        server.destroy()
