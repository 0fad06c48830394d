"""The ledger updated incrementally (issue 13 item 4): a batch renders only the months it changed and
carries every other month's sheet part over byte for byte; months whose open deadline passed and months
of cases reclassified by rules 8/9 are rendered again; the result equals a full rebuild."""
import contextlib
import random
import zipfile
from datetime import datetime, timedelta

import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED
from test_printing import flat, needs_soffice, pdf_pages

from toolkit import batch, ledger
from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.ledger import ledger_path, sheet_parts
from toolkit.scoring import score_month
from toolkit.workspace import Workspace

NOW = datetime(2026, 11, 21, 9)


def parts(ws, year=2026) -> dict:
    """{sheet name: its part's bytes}, and the whole package under None."""
    with zipfile.ZipFile(ledger_path(ws, year)) as package:
        assert package.testzip() is None                    # every part's CRC holds
        found = {name: package.read(part) for name, part in sheet_parts(package).items()}
        found[None] = {name: package.read(name) for name in package.namelist()}
    return found


def rows(ws, year=2026, sheet="11月") -> dict:
    book = openpyxl.load_workbook(ledger_path(ws, year))
    table = [[c.value for c in row] for row in book[sheet].iter_rows(min_row=2)]
    streamed = openpyxl.load_workbook(ledger_path(ws, year), read_only=True)
    assert [list(row) for row in streamed[sheet].iter_rows(min_row=2, values_only=True)] == table
    return {row[1]: dict(zip(table[0], row, strict=False)) for row in table[1:]}


@pytest.fixture
def rendered(monkeypatch):
    """The months whose rows were rendered, in order."""
    months, real = [], ledger.month_rows

    def spy(journal, policy, month, now):
        months.append(month)
        return real(journal, policy, month, now)
    monkeypatch.setattr(ledger, "month_rows", spy)
    return months


class Desk:
    """A workspace and forms dropped into it at a given moment."""

    def __init__(self, tmp_path):
        self.folder, self.count = tmp_path / "forms", 0
        self.folder.mkdir()
        self.ws = Workspace.open(tmp_path / "ws")

    def drop(self, now, *forms):
        paths = []
        for kind, values in forms:
            self.count += 1
            paths.append(build(kind, values, self.folder / f"{kind.key}-{self.count}.xlsx"))
        receipts, messages = batch.process_batch(self.ws, paths, Clock(now), "test")
        assert [r.status for r in receipts] == ["accepted"] * len(paths) and messages == []
        return [r.number for r in receipts]


def intake(received, **changes):
    return INTAKE, {**INTAKE_VALUES, "received_at": received, "customer_name": f"客户{received:%m%d%H}",
                    "phone": f"139{received:%m%d%H%M}", "target": f"对象{received:%m%d%H}", **changes}


def test_a_batch_rewrites_only_the_sheet_part_of_the_month_it_changed(tmp_path, rendered):
    desk = Desk(tmp_path)
    desk.drop(NOW, *(intake(datetime(2026, mon, 3, 9)) for mon in (1, 3, 6, 11)))
    before = parts(desk.ws)
    rendered.clear()
    desk.drop(NOW, intake(datetime(2026, 3, 4, 10)))
    assert rendered == ["2026-03"]
    after = parts(desk.ws)
    assert list(after)[:-1] == ["1月", "3月", "6月", "11月"]
    assert [name for name in ("1月", "6月", "11月") if after[name] != before[name]] == []
    assert after["3月"] != before["3月"]
    assert list(rows(desk.ws, sheet="3月")) == ["TS2026030001", "TS2026030002"]
    for name in ("xl/styles.xml", "[Content_Types].xml"):        # workbook.xml: 3月 prints one row more
        assert after[None][name] == before[None][name], name


def test_a_new_month_is_inserted_in_order_and_the_others_are_carried(tmp_path):
    desk = Desk(tmp_path)
    desk.drop(NOW, intake(datetime(2026, 3, 3, 9)), intake(datetime(2026, 11, 3, 9)))
    before = parts(desk.ws)
    desk.drop(NOW, intake(datetime(2026, 1, 5, 9)))
    after = parts(desk.ws)
    assert list(after)[:-1] == ["1月", "3月", "11月"]
    assert (after["3月"], after["11月"]) == (before["3月"], before["11月"])
    book = openpyxl.load_workbook(ledger_path(desk.ws, 2026))
    assert [(s.title, s.print_area, s.print_title_rows, s.auto_filter.ref) for s in book] == [
        (f"{m}月", f"'{m}月'!$A$1:$I$3", "$1:$2", "A2:T3") for m in (1, 3, 11)]


def test_a_month_whose_open_deadline_passed_is_rendered_again(tmp_path, rendered):
    desk = Desk(tmp_path)
    desk.drop(NOW, intake(datetime(2026, 1, 5, 9)), intake(datetime(2026, 11, 20, 15, 30)))
    before = parts(desk.ws)
    assert rows(desk.ws)["TS2026110001"]["是否超时"] == "否"
    assert batch.refresh_ledgers(desk.ws, [], NOW + timedelta(hours=1)) == []
    assert parts(desk.ws)[None] == before[None]          # nothing passed: the workbook is not written
    later = NOW + timedelta(days=20)
    rendered.clear()
    assert batch.refresh_ledgers(desk.ws, [], later) == []
    assert rendered == ["2026-11"]
    after = parts(desk.ws)
    assert rows(desk.ws)["TS2026110001"]["是否超时"] == "是" and after["1月"] == before["1月"]
    assert rows(desk.ws)["TS2026110001"]["考核扣分"] == 0.5


def test_a_case_reclassified_by_rule_8_is_rendered_in_its_own_month(tmp_path, rendered):
    """The customer's third complaint in 90 days arrives first (February); when the first one (January)
    arrives, the February case becomes suspected major though the batch touched only January."""
    desk = Desk(tmp_path)
    same = {"customer_name": "陈美华", "phone": "13805931234"}
    desk.drop(NOW, intake(datetime(2026, 2, 10, 9), **same), intake(datetime(2026, 2, 5, 9), **same),
              intake(datetime(2026, 6, 1, 9)))
    assert rows(desk.ws, sheet="2月")["TS2026020001"]["投诉性质"] == "非重大"
    before = parts(desk.ws)
    rendered.clear()
    desk.drop(NOW, intake(datetime(2026, 1, 20, 9), **same))
    assert rendered == ["2026-01", "2026-02"]
    assert rows(desk.ws, sheet="2月")["TS2026020001"]["投诉性质"] == "疑似重大"
    assert parts(desk.ws)["6月"] == before["6月"]


def test_a_crash_between_the_mark_and_the_write_is_repaired(tmp_path, monkeypatch):
    desk = Desk(tmp_path)
    desk.drop(NOW, intake(datetime(2026, 3, 3, 9)), intake(datetime(2026, 11, 3, 9)))
    real = ledger.save_atomically

    def crash(*args):
        raise KeyboardInterrupt("killed while writing the ledger")
    monkeypatch.setattr(ledger, "save_atomically", crash)
    with contextlib.suppress(KeyboardInterrupt):
        desk.drop(NOW, intake(datetime(2026, 3, 4, 9)))
    assert batch.stale_years(desk.ws) == {2026} and list(rows(desk.ws, sheet="3月")) == ["TS2026030001"]
    monkeypatch.setattr(ledger, "save_atomically", real)
    assert batch.refresh_ledgers(desk.ws, [], NOW) == []
    assert list(rows(desk.ws, sheet="3月")) == ["TS2026030001", "TS2026030002"] and batch.stale_years(desk.ws) == set()


def test_a_workbook_changed_by_someone_else_is_rendered_whole(tmp_path):
    desk = Desk(tmp_path)
    desk.drop(NOW, intake(datetime(2026, 3, 3, 9)), intake(datetime(2026, 11, 3, 9)))
    book = openpyxl.load_workbook(ledger_path(desk.ws, 2026))
    book["3月"]["D3"] = "涂改"
    book.save(ledger_path(desk.ws, 2026))
    desk.drop(NOW, intake(datetime(2026, 11, 4, 9)))
    assert rows(desk.ws, sheet="3月")["TS2026030001"]["投诉内容"] == INTAKE_VALUES["content"]


def test_random_batches_give_the_workbook_a_full_rebuild_gives(tmp_path, rendered):
    rng = random.Random(13)
    desk = Desk(tmp_path)
    now, numbers = datetime(2026, 3, 1, 9), []
    for _ in range(8):
        now += timedelta(days=rng.randint(1, 40))
        forms = []
        for _ in range(rng.randint(1, 3)):
            received = now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 12))
            who = rng.choice(["甲", "乙", "丙"])
            forms.append(intake(received, customer_name=who, phone=f"1380000000{'甲乙丙'.index(who)}",
                                target=rng.choice(["抄表班", "营业厅"])))
        numbers += desk.drop(now, *forms)
        if rng.random() < 0.5 and numbers:
            number = rng.choice(numbers)
            case = desk.ws.journal.case(number)
            received = datetime.fromisoformat(case["received_at"])
            desk.drop(now, (FEEDBACK, {**FEEDBACK_VALUES, **REVIEWED, "number": number,
                                       "customer_name": case["facts"]["customer_name"], "phone": case["facts"]["phone"],
                                       "received_at": received, "feedback_date": min(now, received + timedelta(days=1))}))
        batch.refresh_ledgers(desk.ws, [], now)
    assert len(rendered) < 12 * 10                              # most batches rendered a month or two
    journal = desk.ws.journal
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    quick = [[s.to_json() for s in score_month(journal, desk.ws.policy, m, now)] for m in months]
    journal.cases_due_between = lambda stages, start, end: journal.cases_received(datetime(1, 1, 1), start)
    assert quick == [[s.to_json() for s in score_month(journal, desk.ws.policy, m, now)] for m in months]
    del journal.cases_due_between
    incremental = {year: parts(desk.ws, year) for year in desk.ws.journal.years()}
    batch.rebuild_all(desk.ws, Clock(now))
    for year, before in incremental.items():
        after = parts(desk.ws, year)
        assert {k: v for k, v in after[None].items() if not k.startswith("docProps/")} == \
            {k: v for k, v in before[None].items() if not k.startswith("docProps/")}


@needs_soffice
def test_a_ledger_updated_in_place_prints_as_before(tmp_path):
    desk = Desk(tmp_path)
    desk.drop(NOW, intake(datetime(2026, 3, 3, 9)), intake(datetime(2026, 11, 3, 9)))
    desk.drop(NOW, intake(datetime(2026, 1, 5, 9)), intake(datetime(2026, 3, 5, 9)))
    pages = [flat(page) for page in pdf_pages(ledger_path(desk.ws, 2026), tmp_path)]
    assert [next(t for t in ("2026年01月", "2026年03月", "2026年11月") if t in page) for page in pages] == \
        ["2026年01月", "2026年03月", "2026年11月"]
    assert all("处理意见与结果" in page and "考核扣分" not in page for page in pages)
    assert "TS2026030001" in pages[1] and "TS2026030002" in pages[1]
    assert [f"第{n}页共3页" in page for n, page in enumerate(pages, start=1)] == [True] * 3
