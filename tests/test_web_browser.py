"""Issue 14 in a real browser: `tousu serve` started as a process, Debian's Chromium driven by
Playwright (its Python API waits for each page by itself and needs no chromedriver of the matching
version; the browser is the system's /usr/bin/chromium, Playwright's own download is never used).
The office and a unit user log in through the form; the 今日 list and the month's figures read off the
rendered pages equal the CLI's JSON; every page is saved as a screenshot under build/screenshots/
(or $TOUSU_SCREENSHOTS), outside git."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from test_web import CARE, NETWORK, NOW, PASSWORD, build_site, snapshot

pytestmark = pytest.mark.slow                  # a server process and a browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("TOUSU_SCREENSHOTS") or ROOT / "build" / "screenshots")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def pristine(site) -> dict:
    """Every file of the workspace and its hash, before the server starts."""
    return snapshot(site.root)


@pytest.fixture(scope="module")
def server(site, pristine):
    """`tousu serve` on a free loopback port, with the tests' clock."""
    port = free_port()
    env = {**os.environ, "TOUSU_NOW": NOW.isoformat()}
    process = subprocess.Popen([sys.executable, "-c", "from toolkit.entry import main; main()", "serve",
                                "-w", str(site.root), "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urlopen(url + "/login", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"tousu serve did not start: {process.communicate(timeout=10)[0].decode()}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def login(browser, server):
    contexts = []

    def open_as(name: str):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.goto(server + "/today")
        assert page.url.startswith(server + "/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server + "/today")
        return page
    yield open_as
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_office_sees_today_as_tousu_overdue_and_the_month_as_tousu_report(login, server, site):
    page = login("王敏")
    shot(page, "01-今日-办公室")
    rows = page.locator("#overdue tr[data-number]")
    assert [(r.get_attribute("data-number"), r.get_attribute("data-stage"), r.get_attribute("data-due"))
            for r in rows.all()] == [(o["number"], o["stage"], o["due"]) for o in site.cli["overdue"]["overdue"]]
    assert page.locator("#overdue h3").all_inner_texts() == [f"{NETWORK}（1 项）", f"{CARE}（1 项）"]

    page.click("text=月度")
    page.fill("input[name=month]", "2026-11")
    page.click("form.filters button")
    page.wait_for_url(server + "/month?month=2026-11")
    shot(page, "04-月度-办公室")
    for name, rate in site.cli["report"]["rates"].items():
        cells = page.locator(f'#rates tr[data-name="{name}"] td').all_inner_texts()
        shown = "—" if rate["rate"] is None else f"{rate['rate']:.2%}"
        assert cells[:4] == [name, str(rate["numerator"]), str(rate["denominator"]), shown]
    assert page.inner_text("#summary b[data-key=cases]") == str(site.cli["report"]["cases"])
    assert [page.locator(f'#scores tr[data-unit="{u["unit"]}"] td').last.inner_text()
            for u in site.cli["score"]["units"]] == [f"{u['points']:g}" for u in site.cli["score"]["units"]]
    assert page.locator("svg.chart").count() == 3


def test_the_office_filters_cases_by_url_opens_one_and_downloads_its_form(login, server, site):
    page = login("王敏")
    page.click("text=案件")
    shot(page, "02-案件-办公室")
    page.select_option("select[name=unit]", CARE)
    page.click("form.filters button")
    page.wait_for_url(re.compile(r".*/cases\?.*unit=%E5%AE%A2"))
    assert [r.get_attribute("data-number") for r in page.locator("#cases tr[data-number]").all()] == \
        ["TS2026110003", "TS2026110001"]
    link = page.url                                  # the filters are the URL: a link can be sent
    page.goto(server + "/today")
    page.goto(link)
    assert page.locator("#cases tr[data-number]").count() == 2
    page.click("text=TS2026110001")
    page.wait_for_url(server + "/cases/TS2026110001")
    assert "13805931234" in page.inner_text("main")
    shot(page, "03-案件详情-办公室")
    with page.expect_download() as download:
        page.click("#files >> text=TS2026110001-受理记录单-v1.xlsx")
    archived = site.root / "archive/2026/11/TS2026110001/TS2026110001-受理记录单-v1.xlsx"
    assert Path(download.value.path()).read_bytes() == archived.read_bytes()


def test_a_unit_user_sees_its_own_unit_masked_and_not_another_units_case_even_by_url(login, server):
    page = login("李娜")
    shot(page, "05-今日-承办单位")
    assert {r.get_attribute("data-number") for r in page.locator("tr[data-number]").all()} == {"TS2026110003"}
    page.click("text=案件")
    numbers = [r.get_attribute("data-number") for r in page.locator("#cases tr[data-number]").all()]
    assert numbers == ["TS2026110003", "TS2026110001"]
    shot(page, "06-案件-承办单位")
    page.goto(server + "/cases/TS2026110001")
    text = page.inner_text("main")
    assert "138****1234" in text and "13805931234" not in text and "三明市梅列区****" in text
    assert page.locator("#files a").count() == 0
    shot(page, "07-案件详情-承办单位")
    response = page.goto(server + "/cases/TS2026110002")           # another unit's case, typed by hand
    assert response.status == 404 and "未找到" in page.inner_text("main")
    shot(page, "08-他单位案件-承办单位")
    page.click("text=退出登录")
    page.wait_for_url(re.compile(r".*/login"))
    shot(page, "00-登录")
    assert page.goto(server + "/cases").url.startswith(server + "/login")


def test_browsing_left_every_file_of_the_workspace_as_it_was(server, site, pristine):
    assert snapshot(site.root) == pristine
