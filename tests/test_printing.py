"""What the office prints (issue 12 item 15): the ledger's 附件5 columns on landscape A4 at a readable
scale with title, borders, repeated header and page numbers; the 月报 with each chart on a page of its
own and nothing clipped; the blank forms on one page. The print settings are checked in the saved
workbooks; where LibreOffice is installed the workbooks are rendered to PDF and the pages counted."""
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

from toolkit.forms.kinds import CALLBACK, FEEDBACK, INTAKE, KINDS
from toolkit.ledger import ANNEX_COLUMNS
from toolkit.paths import TEMPLATES
from toolkit.sheets import MAX_WIDTH, text_width

UNITS = ["商务与大客户赋能群", "客户创值赋能群", "管网运营赋能群", "建设交付赋能群", "业务发展群"]
CHANNELS = ["客服热线", "微信", "微信公众号", "营业厅", "投诉专线 0593-2856677"]
LONG = "客户反映燃气表走字过快，本月用气量比去年同期高出一倍，怀疑表具故障或抄表错误，要求上门校验并退还多收气费。" * 2
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: "
                                                             "apt-get install libreoffice-calc to render to PDF")


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    """A November of 30 complaints (long texts, landline numbers, five units), half fed back, three
    called back; returns the workspace with its ledger, 月报 and 考核明细 written."""
    from click.testing import CliRunner

    from toolkit.cli import main
    from toolkit.forms.build import build
    base = tmp_path_factory.mktemp("month")
    ws, forms = base / "ws", base / "forms"
    forms.mkdir()
    intakes, followups = [], []
    for i in range(30):
        values = dict(INTAKE_VALUES, customer_name=f"客户{i:02d}", phone=f"0593-28{i:05d}" if i % 2 else f"1380593{i:04d}",
                      address=f"三明市梅列区列东街{i + 1}号{i % 5 + 1}幢50{i % 4 + 1}室", channel=CHANNELS[i % 5],
                      received_at=datetime(2026, 11, 1, 9) + timedelta(hours=17 * i), unit=UNITS[i % 5],
                      content=LONG if i % 3 == 0 else INTAKE_VALUES["content"])
        intakes.append(build(INTAKE, values, forms / f"intake-{i:02d}.xlsx"))
        if i % 2 == 0:
            feedback = dict(FEEDBACK_VALUES, **REVIEWED, **{k: values[k] for k in
                                                            ("customer_name", "address", "channel", "received_at")},
                            phone=values["phone"], number=f"TS202611{i + 1:04d}", unit=UNITS[i % 5],
                            content=values["content"], feedback_date=values["received_at"] + timedelta(days=1),
                            result=LONG if i % 4 == 0 else FEEDBACK_VALUES["result"])
            followups.append(build(FEEDBACK, feedback, forms / f"feedback-{i:02d}.xlsx"))
    for i in (0, 2, 4):
        callback = {"number": f"TS202611{i + 1:04d}", "callback_date": datetime(2026, 11, 28, 9), "caller": "周",
                    "method": "电话", "evaluation": "满意", "notes": "好"}
        followups.append(build(CALLBACK, callback,
                               forms / f"callback-{i:02d}.xlsx"))
    runner = CliRunner()
    for now, args in (("2026-11-29", ["process", *map(str, intakes)]), ("2026-11-29", ["process", *map(str, followups)]),
                      ("2026-12-01", ["report", "--month", "2026-11"]), ("2026-12-01", ["score", "--month", "2026-11"])):
        result = runner.invoke(main, [*args, "-w", str(ws), "--json"], env={"TOUSU_NOW": f"{now}T09:00:00"})
        assert result.exit_code in (0, 1), result.output
    return ws


def pdf_pages(workbook: Path, out: Path) -> list[str]:
    """Render with LibreOffice; the text of each page (pdftotext)."""
    out.mkdir(exist_ok=True)
    subprocess.run([SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(workbook)],
                   capture_output=True, timeout=180, check=True)
    pdf = out / f"{workbook.stem}.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=True).stdout
    return text.rstrip("\f").split("\f")


def flat(text: str) -> str:
    return "".join(text.split())


# ---------------------------------------------------------------- print settings in the saved workbooks
def test_the_ledger_prints_the_annex_columns_with_title_header_and_page_numbers(month):
    sheet = openpyxl.load_workbook(month / "ledger" / "投诉管理台帐-2026.xlsx")["11月"]
    assert sheet["A1"].value == "投诉信息管理台帐 2026年11月" and "A1:I1" in sheet.merged_cells
    assert [c.value for c in sheet[2]][:9] == ANNEX_COLUMNS
    assert sheet.print_area == "'11月'!$A$1:$I$32"             # the annex columns; 受理渠道… stay on screen
    assert sheet.print_title_rows == "$1:$2" and sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("landscape", 9, 1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref == "A2:T32"
    cell = sheet["D3"]
    assert cell.alignment.wrap_text and cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
    # the annex columns at >= 80%: their widths (in points) against a landscape A4 page between the margins
    width = sum((sheet.column_dimensions[c].width * 7 + 5) * 0.75 for c in "ABCDEFGHI")
    usable = (842 - 72 * (sheet.page_margins.left + sheet.page_margins.right))
    assert usable / width >= 0.8


def test_report_and_score_sheet_columns_fit_their_values(month):
    """Nothing clipped: every value up to MAX_WIDTH fits its column (longer text wraps in its cell)."""
    for name in ("服务月报-2026-11.xlsx", "考核明细-2026-11.xlsx"):
        book = openpyxl.load_workbook(month / "reports" / name)
        for sheet in book.worksheets:
            merged = {c for r in sheet.merged_cells.ranges for row in sheet[r.coord] for c in row}
            for row in sheet.iter_rows(min_row=2):
                for cell in row:
                    if cell.value is None or cell in merged or text_width(cell.value) > MAX_WIDTH:
                        continue
                    width = sheet.column_dimensions[cell.column_letter].width
                    assert text_width(cell.value) <= width, \
                        (name, sheet.title, cell.coordinate, cell.value, width)
            assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页", (name, sheet.title)
    book = openpyxl.load_workbook(month / "reports" / "服务月报-2026-11.xlsx")
    assert book["未办结"]["A1"].value == "未办结投诉 2026-11（27 件）" and book["重复投诉"]["A1"].value == "重复投诉 2026-11（0 件）"
    assert book["扣分明细"].oddHeader.center.text == "&A"                  # the sheet's name on top of each page
    phones = [c.value for c in book["未办结"]["D"][2:]]
    assert "0593-2800001" in phones and book["未办结"].column_dimensions["D"].width >= len("0593-2800001")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_every_blank_form_is_set_to_print_on_one_a4_page(kind):
    stem = f"{kind.annex} {kind.title}".strip()
    sheet = openpyxl.load_workbook(TEMPLATES / f"{stem}.xlsx").active
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == ("portrait", 9, 1, 1)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_area.endswith(f"$D${sheet.max_row}")


# ---------------------------------------------------------------- rendered by LibreOffice
@needs_soffice
def test_the_ledger_month_of_30_cases_prints_on_three_pages_at_most(month, tmp_path):
    pages = pdf_pages(month / "ledger" / "投诉管理台帐-2026.xlsx", tmp_path)
    assert 1 <= len(pages) <= 3
    assert all("投诉信息管理台帐2026年11月" in flat(page) and "处理意见与结果" in flat(page) for page in pages)
    assert all(f"第{n}页共{len(pages)}页" in flat(page) for n, page in enumerate(pages, start=1))
    text = flat("".join(pages))
    assert "TS2026110030" in text and "受理渠道" not in text and "考核扣分" not in text   # the annex only


@needs_soffice
def test_the_report_prints_each_chart_whole_on_one_page(month, tmp_path):
    pages = [flat(page) for page in pdf_pages(month / "reports" / "服务月报-2026-11.xlsx", tmp_path)]
    for title, labels in (("各责任部门投诉件数", UNITS), ("近12个月投诉件数", ["月份", "2025-12", "件数"])):
        [page] = [p for p in pages if title in p]                     # drawn once, not split over two pages
        assert all(label in page for label in labels), title          # with its axis labels / its table
    [units] = [p for p in pages if "各责任部门投诉件数" in p]
    assert "责任部门件数" not in units                                 # the chart has the page to itself
    assert len(pages) <= 10


def test_wechat_and_its_official_account_count_as_one_channel(month):
    sheet = openpyxl.load_workbook(month / "reports" / "服务月报-2026-11.xlsx")["投诉数量"]
    counts = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=4, max_row=8)}
    assert counts == {"微信公众号": 12, "客服热线": 6, "投诉专线 0593-2856677": 6, "营业厅": 6, None: None}


@needs_soffice
def test_the_score_sheet_prints_unit_names_whole(month, tmp_path):
    pages = pdf_pages(month / "reports" / "考核明细-2026-11.xlsx", tmp_path)
    assert "商务与大客户赋能群" in pages[0] and len(pages) <= 4


@needs_soffice
@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_every_blank_form_prints_on_one_page(suffix, tmp_path):
    for kind in KINDS:
        stem = f"{kind.annex} {kind.title}".strip()
        pages = pdf_pages(shutil.copy(TEMPLATES / f"{stem}{suffix}", tmp_path / f"{kind.key}{suffix}"), tmp_path)
        assert len(pages) == 1 and kind.title in pages[0].replace(" ", ""), stem
