"""Issue 14: `tousu serve`, the read-only web view, through Starlette's TestClient: the figures are the
library's (equal to `tousu overdue`/`report`/`score`), a unit user sees its unit only and masked, logins
are hashed, limited and signed, downloads name no path, and browsing writes nothing."""
import gc
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED
from starlette.testclient import TestClient

from toolkit.cli import main
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import CALLBACK, EXTENSION, FEEDBACK, INTAKE
from toolkit.web.app import create_app
from toolkit.web.users import RateLimit, check_password, hash_password, load_users

NOW = datetime(2026, 11, 21, 9, 0)
CARE, NETWORK = "客户创值赋能群", "管网运营赋能群"
PASSWORD = "正确的密码-2026"
# Received (own channel, 非重大: 调查反馈 by the end of day 3, 处理反馈 3 days later):
#  TS..01 11-20 15:30 CARE, fed back 11-21 08:30 (reviewed) and called back;  TS..02 11-15 10:00 NETWORK;
#  TS..03 11-17 10:00 CARE, an approved extension to 11-28 arriving 11-21 09:00 (after its 调查反馈 deadline:
#  only 处理反馈, 11-23, moves);  TS..04 11-19 09:00 NETWORK.
CASES = [(CARE, datetime(2026, 11, 20, 15, 30), "陈美华", "13805931234"),
         (NETWORK, datetime(2026, 11, 15, 10, 0), "王芳", "13900000002"),
         (CARE, datetime(2026, 11, 17, 10, 0), "李雷", "13900000003"),
         (NETWORK, datetime(2026, 11, 19, 9, 0), "韩梅", "13900000004")]
# at 11-21 09:00: TS..02 调查 (11-18) and TS..03 调查 (11-20) are overdue; TS..02 处理 is due today
# (11-21 23:59:59) and TS..04 调查 tomorrow (11-22 23:59:59).
OVERDUE = [{"number": "TS2026110002", "stage": "investigation", "due": "2026-11-18T23:59:59", "unit": NETWORK},
           {"number": "TS2026110003", "stage": "investigation", "due": "2026-11-20T23:59:59", "unit": CARE}]
SOON = [("TS2026110002", "handling", "2026-11-21T23:59:59"), ("TS2026110004", "investigation", "2026-11-22T23:59:59")]


@dataclass
class Site:
    root: Path
    cli: dict           # the JSON the CLI printed: overdue, report, score


def cli(*args, check=True):
    result = CliRunner().invoke(main, [str(a) for a in args], env={"TOUSU_NOW": NOW.isoformat()})
    assert not check or result.exit_code == 0, result.output
    return result


def build_site(base: Path) -> Site:
    """The workspace every web test reads: four cases in two units, a feedback, a callback, an extension,
    two notices."""
    root = base / "ws"
    cli("init", root)
    forms = [build(INTAKE, dict(INTAKE_VALUES, unit=unit, received_at=received, customer_name=name, phone=phone),
                   base / f"intake-{i}.xlsx") for i, (unit, received, name, phone) in enumerate(CASES)]
    cli("process", *forms, "-w", root)
    cli("process", build(FEEDBACK, dict(FEEDBACK_VALUES, unit=CARE, **REVIEWED), base / "feedback.xlsx"), "-w", root)
    cli("process", build(CALLBACK, dict(number="TS2026110001", callback_date="2026-11-21 08:50", caller="周洁",
                                        method="电话", evaluation="满意", notes="已解决"), base / "callback.xlsx"),
        "-w", root)
    cli("process", build(EXTENSION, dict(number="TS2026110003", unit=CARE, extend_to=datetime(2026, 11, 28),
                                         reason="需厂家检测表具", approval="同意"), base / "extension.xlsx"), "-w", root)
    cli("overdue", "--as-of", "2026-11-21 09:00", "--notices", "-w", root)
    cli("user", "add", "王敏", "--office", "--password", PASSWORD, "-w", root)
    cli("user", "add", "李娜", "--unit", CARE, "--password", PASSWORD, "-w", root)
    outputs = {name: json.loads(cli(*args, "-w", root, "--json").stdout)
               for name, args in (("overdue", ("overdue", "--as-of", "2026-11-21 09:00")),
                                  ("report", ("report", "--month", "2026-11")),
                                  ("score", ("score", "--month", "2026-11")))}
    return Site(root, outputs)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    return build_site(tmp_path_factory.mktemp("web"))


def client_for(site: Site, user: str | None = "王敏", limit: RateLimit | None = None, now: datetime = NOW) -> TestClient:
    client = TestClient(create_app(site.root, Clock(now), limit))
    if user:
        response = client.post("/login", data={"name": user, "password": PASSWORD})
        assert response.status_code == 200 and "登录" not in response.text.split("<main>")[1][:40], response.text
    return client


def snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------- the library's figures
def test_today_lists_exactly_what_tousu_overdue_lists(site):
    office = client_for(site)
    listed = office.get("/api/today").json()
    assert listed == site.cli["overdue"]                    # the very JSON of `tousu overdue --as-of ... --json`
    assert [{k: i[k] for k in ("number", "stage", "due", "unit")} for i in listed["overdue"]] == OVERDUE
    page = office.get("/today").text
    overdue, soon = page.split('id="soon"')
    assert re.findall(r'data-number="(\w+)" data-stage="(\w+)" data-due="([\d:T-]+)"', overdue) == \
        [(o["number"], o["stage"], o["due"]) for o in OVERDUE]
    assert re.findall(r'data-number="(\w+)" data-stage="(\w+)" data-due="([\d:T-]+)"', soon) == SOON
    # grouped by unit, how late, the notice issued for it
    assert overdue.index(NETWORK) < overdue.index("TS2026110002") < overdue.index(CARE) < overdue.index("TS2026110003")
    assert "2天9小时" in overdue and "9小时" in overdue            # 11-18 23:59:59 -> 11-21 09:00, rounded up
    assert "已发：TS2026110002-督办通知单-调查反馈.docx" in overdue


@pytest.mark.parametrize("moment", ["2026-11-20 09:00", "2026-11-22 00:00", "2026-11-24 00:00", "2026-12-31 00:00"])
def test_today_at_any_moment_is_tousu_overdue_as_of_that_moment(site, moment):
    """Later moments bring the open cases' 处理反馈 past its deadline too (TS..03's only after its extension,
    11-28); the closed case never appears."""
    as_of = datetime.fromisoformat(moment)
    shown = client_for(site, now=as_of).get("/api/today").json()
    listed = json.loads(cli("overdue", "--as-of", moment, "-w", site.root, "--json").stdout)
    assert shown == listed
    assert "TS2026110001" not in {item["number"] for item in shown["overdue"]}
    assert len(shown["overdue"]) == {"2026-11-20": 1, "2026-11-22": 3, "2026-11-24": 4, "2026-12-31": 6}[moment[:10]]


def test_month_page_shows_the_numbers_of_tousu_report_and_score(site):
    office = client_for(site)
    shown = office.get("/api/month?month=2026-11").json()
    report, score = site.cli["report"], site.cli["score"]
    assert shown == {"report": {k: v for k, v in report.items() if k != "report"}, "score": score}
    assert (shown["report"]["cases"], shown["report"]["open"]) == (4, 3)     # TS..01 closed by its 满意 callback
    page = office.get("/month?month=2026-11").text
    for name, rate in report["rates"].items():
        row = re.search(rf'data-name="{name}">.*?</tr>', page, re.S).group(0)
        cells = re.findall(r'class="n">([^<]*)<', row)
        percent = "—" if rate["rate"] is None else f"{rate['rate']:.2%}"
        assert cells == [str(rate["numerator"]), str(rate["denominator"]), percent]
    for unit in score["units"]:
        row = re.search(rf'data-unit="{unit["unit"]}">.*?</tr>', page, re.S).group(0)
        assert re.findall(r'class="n">([^<]*)<', row)[-1] == f"{unit['points']:g}"
    assert page.count("<svg") == 3 and "http" not in page.split("<main>")[1]      # drawn here, nothing fetched


def test_the_current_month_is_computed_at_most_once_a_minute_and_only_the_latest_kept(site):
    reader = create_app(site.root, Clock(NOW)).state.reader
    first, as_of = reader.month("2026-11", datetime(2026, 11, 21, 9, 0, 10))
    assert as_of == NOW and reader.month("2026-11", datetime(2026, 11, 21, 9, 0, 50))[0] is first
    later, as_of = reader.month("2026-11", datetime(2026, 11, 21, 9, 1, 5))
    assert later is not first and as_of == datetime(2026, 11, 21, 9, 1)
    assert reader._memo[("month", "2026-11")] == {as_of: later}
    assert reader.month("2026-10", NOW)[1] == datetime(2026, 11, 1)         # a month over: as of its end


def test_case_list_filters_are_a_url_and_sort_by_the_nearest_deadline(site):
    office = client_for(site)

    def numbers(url):
        return re.findall(r'<tr data-number="(\w+)"', office.get(url).text)
    # nearest open deadline first: 02 (处理 11-21), 03 (处理 11-23, its 调查 overdue 11-20 comes first), ...
    assert numbers("/cases") == ["TS2026110002", "TS2026110003", "TS2026110004", "TS2026110001"]
    assert numbers(f"/cases?unit={CARE}") == ["TS2026110003", "TS2026110001"]
    assert numbers("/cases?status=已办结") == ["TS2026110001"]
    assert numbers("/cases?q=13900000004") == numbers("/cases?q=韩梅") == numbers("/cases?q=ts2026110004") == \
        ["TS2026110004"]
    assert numbers("/cases?q=%25") == [] and numbers("/cases?severity=重大") == []
    assert numbers("/cases?month=2026-10") == [] and numbers("/cases?channel=客服热线") == numbers("/cases")
    assert office.get("/cases?month=2026-13").status_code == 400


def test_case_page_shows_forms_deadlines_classification_callbacks_and_notices(site):
    page = client_for(site).get("/cases/TS2026110001").text
    for expected in ("受理记录单 第1版", "调查处理反馈单 第1版", "回访记录单 第1版", "提交人", "已解决",
                     "责任", CARE, "13805931234", "三明市梅列区列东街28号", "TS2026110001-受理记录单-v1.xlsx"):
        assert expected in page, expected
    rows = re.findall(r'<tr class="(\w+)"><td>(\S+?)<', page)
    assert rows[:2] == [("met", "调查反馈"), ("met", "处理反馈")]
    overdue = client_for(site).get("/cases/TS2026110002").text
    assert '<tr class="overdue"><td>调查反馈' in overdue and "TS2026110002-督办通知单-调查反馈.docx" in overdue
    extended = client_for(site).get("/cases/TS2026110003").text
    assert re.findall(r'<tr class="(\w+)"><td>(\S+?)(<span class="tag">已延期</span>)?</td>\s*<td>([\d: -]+)</td>',
                      extended)[:2] == [("overdue", "调查反馈", "", "2026-11-20 23:59"),
                                        ("open", "处理反馈", '<span class="tag">已延期</span>', "2026-11-28 23:59")]
    assert "延期申请单 第1版" in extended and "需厂家检测表具" in extended


# ---------------------------------------------------------------------- who sees what
def test_a_unit_user_sees_its_unit_only_masked_and_downloads_nothing(site):
    unit = client_for(site, "李娜")
    listed = unit.get("/cases").text
    assert re.findall(r'<tr data-number="(\w+)"', listed) == ["TS2026110003", "TS2026110001"]
    assert unit.get(f"/cases?unit={NETWORK}").text.count("<tr data-number") == 2     # the filter cannot widen it
    assert unit.get("/cases/TS2026110002").status_code == 404                        # typed by hand: as if absent
    assert unit.get("/cases/TS2026110002/files/TS2026110002-受理记录单-v1.xlsx").status_code == 404
    assert [i["number"] for i in unit.get("/api/today").json()["overdue"]] == ["TS2026110003"]
    own = unit.get("/cases/TS2026110001").text
    assert "138****1234" in own and "13805931234" not in own and "13805931234" not in listed
    assert "三明市梅列区****" in own and "列东街28号" not in own
    response = unit.get("/cases/TS2026110001/files/TS2026110001-受理记录单-v1.xlsx")
    assert response.status_code == 403 and "仅服务管理办公室可下载" in response.text
    own_scores = [s for s in site.cli["score"]["units"] if s["unit"] == CARE]
    assert unit.get("/api/month?month=2026-11").json()["score"]["units"] == own_scores and len(own_scores) == 1
    assert NETWORK not in re.search(r'id="scores".*?</table>', unit.get("/month?month=2026-11").text, re.S).group(0)


def test_downloads_only_by_case_number_and_archived_name(site):
    office = client_for(site)
    base = "/cases/TS2026110001/files/"
    response = office.get(base + "TS2026110001-受理记录单-v1.xlsx")
    archived = site.root / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx"
    assert response.status_code == 200 and response.content == archived.read_bytes()
    for attempt in ("..%2F..%2F..%2Fpolicy.toml", "%2e%2e", "%2e%2e%2f%2e%2e%2fjournal.sqlite3",
                    "%2Fetc%2Fpasswd", "%2F" + str(archived).lstrip("/").replace("/", "%2F"),
                    "TS2026110001-受理记录单-v1.xlsx.meta.json", "..%5C..%5Cpolicy.toml",
                    "TS2026110001-%E5%8F%97%E7%90%86%E8%AE%B0%E5%BD%95%E5%8D%95-v1.xlsx%00.txt"):
        assert office.get(base + attempt).status_code == 404, attempt
    for attempt in ("/cases/..%2F..%2Fpolicy.toml/files/x", "/cases/%2e%2e/files/policy.toml",
                    "/cases/TS2026110001/files/../../../policy.toml", "/static/..%2F..%2Fcli.py",
                    "/static/%2e%2e/app.py"):
        assert office.get(attempt).status_code == 404, attempt
    # a literal ../ is resolved by the client itself (as a browser does): never a file of the archive
    for attempt in (base + "..", base + "../../../policy.toml", base + "./../files/%2e%2e%2fpolicy.toml"):
        assert "content-disposition" not in office.get(attempt).headers, attempt


# ---------------------------------------------------------------------- accounts
def test_pages_need_a_login_once_accounts_exist_and_logout_ends_it(site):
    anonymous = client_for(site, None)
    response = anonymous.get("/cases?unit=x", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fcases%3Funit%3Dx"
    assert anonymous.get("/api/today", follow_redirects=False).status_code == 303
    wrong = anonymous.post("/login", data={"name": "王敏", "password": "不对"})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    assert anonymous.post("/login?next=//evil.example/x", data={"name": "王敏", "password": PASSWORD},
                          follow_redirects=False).headers["location"] == "/today"
    assert anonymous.get("/today").status_code == 200
    anonymous.post("/logout")
    assert anonymous.get("/today", follow_redirects=False).status_code == 303
    forged = client_for(site, None)
    forged.cookies.set("tousu_session", "eyJ1c2VyIjogIueOi+aVjyJ9.forged.signature")
    assert forged.get("/today", follow_redirects=False).status_code == 303


def test_logins_are_rate_limited_per_address_and_name(site):
    clock = [0.0]
    client = client_for(site, None, RateLimit(attempts=5, window=300, clock=lambda: clock[0]))
    for _ in range(5):
        assert client.post("/login", data={"name": "王敏", "password": "x"}).status_code == 401
    blocked = client.post("/login", data={"name": "王敏", "password": PASSWORD})
    assert blocked.status_code == 429 and "5 分钟后再试" in blocked.text
    clock[0] = 301
    assert client.post("/login", data={"name": "王敏", "password": PASSWORD}).status_code == 200


def test_passwords_are_scrypt_hashes_with_their_own_salt(site):
    users = load_users(site.root / ".tousu" / "users.toml")
    assert set(users) == {"王敏", "李娜"} and users["王敏"].office and users["李娜"].unit == CARE
    for user in users.values():
        scheme, n, r, p, salt, digest = user.password.split("$")
        assert (scheme, n, r, p, len(salt), len(digest)) == ("scrypt", "16384", "8", "1", 32, 64)
        assert check_password(PASSWORD, user.password) and not check_password(PASSWORD + "x", user.password)
    assert users["王敏"].password != users["李娜"].password
    assert PASSWORD not in (site.root / ".tousu" / "users.toml").read_text(encoding="utf-8")
    assert hash_password("x", b"0" * 16) == hash_password("x", b"0" * 16) != hash_password("x")


def test_a_changed_password_ends_the_sessions_opened_with_the_old_one(site, tmp_path):
    root = tmp_path / "ws"
    cli("init", root)
    cli("user", "add", "王敏", "--office", "--password", PASSWORD, "-w", root)
    client = client_for(Site(root, {}))
    assert client.get("/today", follow_redirects=False).status_code == 200
    assert "已重设密码" in cli("user", "add", "王敏", "--office", "--password", "另一个密码-2026", "-w", root).output
    assert client.get("/today", follow_redirects=False).status_code == 303


def test_user_add_names_a_policy_unit_and_serve_keeps_to_loopback_without_accounts(tmp_path):
    root = tmp_path / "ws"
    cli("init", root)
    refused = cli("user", "add", "张三", "--unit", "不存在的部门", "--password", PASSWORD, "-w", root, check=False)
    assert refused.exit_code == 2 and "不是策略中的单位" in refused.output
    both = cli("user", "add", "张三", "--unit", CARE, "--office", "--password", PASSWORD, "-w", root, check=False)
    assert both.exit_code == 2
    served = cli("serve", "--host", "0.0.0.0", "-w", root, check=False)
    assert served.exit_code == 2 and "尚无账户，只能在本机（127.0.0.1）查看" in served.output
    assert not (root / ".tousu" / "users.toml").exists()
    missing = cli("serve", "-w", tmp_path / "没有的工作区", check=False)
    assert missing.exit_code == 2 and "还没有日志" in missing.output and not (tmp_path / "没有的工作区").exists()
    short = cli("user", "add", "张三", "--office", "--password", "1234567", "-w", root, check=False)
    assert short.exit_code == 2 and "密码至少 8 个字符" in short.output
    added = json.loads(cli("user", "add", " 张三 ", "--unit", CARE, "--password", PASSWORD, "-w", root, "--json").stdout)
    assert added == {"user": "张三", "unit": CARE, "office": False, "replaced": False, "file": ".tousu/users.toml"}


def test_without_accounts_the_host_itself_is_the_office_and_nobody_else(tmp_path):
    root = tmp_path / "ws"
    cli("init", root)
    app = create_app(root, Clock(NOW))
    for host in ("127.0.0.1", "::1"):
        page = TestClient(app, client=(host, 50000)).get("/today")
        assert page.status_code == 200 and "本机（服务管理办公室）" in page.text
    for host in ("192.168.1.20", "testclient"):       # a LAN address reaches only the login form
        response = TestClient(app, client=(host, 50000)).get("/today", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_journal_being_swapped_in_is_a_page_that_says_so_then_the_view_comes_back(tmp_path):
    root = tmp_path / "ws"
    cli("init", root)
    client = TestClient(create_app(root, Clock(NOW)), raise_server_exceptions=False, client=("127.0.0.1", 50000))
    assert client.get("/today").status_code == 200
    journal = root / ".tousu" / "journal.sqlite3"
    journal.rename(journal.with_name("elsewhere"))
    response = client.get("/today")
    assert response.status_code == 503 and "工作区暂时无法读取：日志" in response.text and "可能正在重建" in response.text
    journal.with_name("elsewhere").rename(journal)
    assert client.get("/cases").status_code == 200


def test_a_server_process_keeps_its_figures_out_of_the_garbage_collector(site):
    app = create_app(site.root, Clock(NOW), server=True)
    try:
        gc.unfreeze()
        assert TestClient(app).post("/login", data={"name": "王敏", "password": PASSWORD}).status_code == 200
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


# ---------------------------------------------------------------------- read-only
def test_a_full_browse_leaves_the_workspace_byte_identical(site):
    before = snapshot(site.root)
    for user in ("王敏", "李娜"):
        client = client_for(site, user)
        pages = ["/", "/today", "/today?page=2", "/cases", "/month", "/month?month=2026-11", "/api/today",
                 "/api/month?month=2026-10", "/cases?q=王&status=待调查", "/nothing", "/cases/TS2099010001"]
        for url in pages:
            client.get(url)
        for number in re.findall(r'<tr data-number="(\w+)"', client.get("/cases").text):
            page = client.get(f"/cases/{number}").text
            for link in re.findall(r'href="(/cases/\w+/files/[^"]+)"', page):
                assert client.get(link).status_code == 200
        client.post("/logout")
    assert snapshot(site.root) == before
