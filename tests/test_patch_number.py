"""Issue 13 item 3: the number is written into the archived copy by patching the one cell (or Word
paragraph) inside the clerk's package. Every other zip member keeps its original compressed record
byte for byte, the member order stays, and the patched part parses and reads back with the number."""
import io
import re
import shutil
import struct
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import INTAKE_VALUES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.forms.build import build_docx, shown
from toolkit.forms.grid import load_docx, load_xlsx
from toolkit.forms.kinds import INTAKE
from toolkit.forms.patch import CannotPatch, SheetPlace, WordPlace, patch_text
from toolkit.forms.reader import read, recognise
from toolkit.policy import load_policy
from toolkit.process import Env

NUMBER = "TS2026110001"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SHEET, DOCUMENT = "xl/worksheets/sheet1.xml", "word/document.xml"
ENV = Env(datetime(2026, 11, 21, 9, 0), load_policy())


# ------------------------------------------------------------------ helpers
def raw_members(data: bytes) -> list[tuple[str, bytes, bytes]]:
    """(name, compressed bytes as stored, content) of every member, in the package's order."""
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for info in book.infolist():
            name_length, extra_length = struct.unpack_from("<2H", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_length + extra_length
            members.append((info.filename, data[start:start + info.compress_size], book.read(info)))
        assert book.testzip() is None
    return members


def assert_only_part_changed(original: bytes, archived: bytes, part: str) -> tuple[bytes, bytes]:
    """Every member but `part` byte-identical (compressed and content), same names in the same order;
    returns `part` before and after."""
    before, after = raw_members(original), raw_members(archived)
    assert [m[0] for m in before] == [m[0] for m in after]
    changed = [name for (name, raw, content), (_, raw2, content2) in zip(before, after, strict=True)
               if raw != raw2 or content != content2]
    assert changed == [part]
    return {m[0]: m[2] for m in before}[part], {m[0]: m[2] for m in after}[part]


def changed_middle(old: bytes, new: bytes) -> tuple[bytes, bytes]:
    """The differing middles of two byte strings (common prefix and suffix removed)."""
    start = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return old[start:len(old) - end], new[start:len(new) - end]


def process_one(tousu, workspace: Path, path: Path) -> tuple[Path, dict]:
    """`tousu process` of one form: its archived copy and the receipt, with the number's cell."""
    where = number_cell(path)
    code, lines, output = tousu("process", path)
    assert code == 0 and lines[-1]["status"] == "accepted", output
    [archived] = [p for p in (workspace / "archive").glob("2*/*/*/*") if not p.name.endswith(".json")]
    return archived, lines[-1] | {"number_cell": where}


def reading_of(data: bytes, suffix: str):
    source = load_docx(data) if suffix == ".docx" else load_xlsx(data, keep_vba=suffix == ".xlsm")
    assert recognise(source, [INTAKE]) is INTAKE
    return read(source, INTAKE, ENV)


def number_read_back(data: bytes, suffix: str) -> object:
    """The number as the toolkit's reader finds it in the archived copy."""
    return reading_of(data, suffix).value("number")


def number_cell(path: Path) -> str:
    """Where the reader finds the number's slot on the clerk's file ("B4", "表1 第3行第2列")."""
    return reading_of(path.read_bytes(), path.suffix).where("number")


def cell_value(path: Path, number_cell: str):
    sheet, _, ref = number_cell.rpartition("!")
    book = openpyxl.load_workbook(path)
    return (book[sheet] if sheet else book.active)[ref].value


def sheet_values(data: bytes, sheet: str | None = None) -> dict:
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book[sheet] if sheet else book.active
    return {c.coordinate: (c.value, c.style_id) for row in ws.iter_rows() for c in row if c.value is not None}


def word_texts(path: Path) -> list:
    document = docx.Document(path)
    return [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]


def rewrite_member(path: Path, part: str, change) -> None:
    """Test set-up only: the package with `part`'s content changed by `change` (re-zipped)."""
    with zipfile.ZipFile(path) as book:
        members = [(info, book.read(info)) for info in book.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info, content in members:
            book.writestr(info, change(content) if info.filename == part else content)


def soffice_convert(path: Path, target: str, tmp_path: Path) -> Path:
    """The file opened and saved again by LibreOffice (what a clerk on LibreOffice sends)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "libreoffice"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", target, "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180)
    converted = out / f"{path.stem}.{target}"
    assert converted.exists()
    return converted


def filled_template(template: Path, tmp_path: Path) -> Path:
    """A shipped template filled in the way a clerk does, value by value into the slots the reader
    finds (by patching, so nothing else of the template changes), 投诉编号 left blank."""
    data = template.read_bytes()
    source = load_docx(data) if template.suffix == ".docx" else load_xlsx(data, keep_vba=template.suffix == ".xlsm")
    reading = read(source, INTAKE, ENV)
    for key, value in INTAKE_VALUES.items():
        slot = reading.fields[key]
        typed = f"{value:%Y-%m-%d %H:%M}" if isinstance(value, datetime) else str(shown(slot.spec, value))
        data = patch_text(data, slot.slot.locator, slot.prefix + typed)
    path = tmp_path / template.name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ files saved by openpyxl / python-docx
@pytest.mark.parametrize("layout", ["annex", "column", "header"])
def test_xlsx_saved_by_openpyxl_changes_only_the_number_cell(tousu, workspace, intake, layout):
    path = intake(layout=layout)
    original = path.read_bytes()
    archived, receipt = process_one(tousu, workspace, path)
    old, new = assert_only_part_changed(original, archived.read_bytes(), SHEET)
    was, now = sheet_values(original), sheet_values(archived.read_bytes())
    ref = receipt["number_cell"]
    assert now.pop(ref) == (NUMBER, openpyxl.load_workbook(path).active[ref].style_id)   # its style kept
    assert was == now                                     # no other cell changed, value or style
    assert cell_value(archived, ref) == NUMBER
    assert number_read_back(archived.read_bytes(), ".xlsx") == NUMBER
    _, middle = changed_middle(old, new)
    assert NUMBER.encode() in middle and middle.count(b"<c ") <= 1   # one cell's bytes, nothing beyond


def test_a_merged_number_slot_gets_the_number_in_its_top_left_cell(tousu, workspace, intake):
    path = intake(layout="column")                        # values span three merged columns
    archived, receipt = process_one(tousu, workspace, path)
    top_left = receipt["number_cell"]
    [merged] = [str(r) for r in openpyxl.load_workbook(path).active.merged_cells.ranges
                if r.coord.startswith(top_left + ":")]
    assert merged == f"{top_left}:D{top_left[1:]}"
    assert cell_value(archived, top_left) == NUMBER
    assert merged in {str(r) for r in openpyxl.load_workbook(archived).active.merged_cells.ranges}
    assert number_read_back(archived.read_bytes(), ".xlsx") == NUMBER


def test_a_number_cell_missing_from_the_xml_is_created_in_column_order(tousu, workspace, intake):
    path = intake()
    cell = re.compile(rb'<c r="B4"[^>]*>(</c>)?')
    rewrite_member(path, SHEET, lambda xml: cell.sub(b"", xml, count=1))
    assert b'r="B4"' not in zipfile.ZipFile(path).read(SHEET)
    original = path.read_bytes()
    archived, receipt = process_one(tousu, workspace, path)
    _, new = assert_only_part_changed(original, archived.read_bytes(), SHEET)
    assert receipt["number_cell"] == "B4"
    assert re.search(rb'<c r="A4"[^>]*>.*?</c><c r="B4" t="inlineStr"><is><t>TS2026110001</t></is></c><c r="C4"',
                     new)
    assert cell_value(archived, "B4") == NUMBER
    assert number_read_back(archived.read_bytes(), ".xlsx") == NUMBER


@pytest.mark.parametrize("layout", ["annex", "header"])
def test_docx_table_cell_saved_by_python_docx(tousu, workspace, intake, layout):
    path = intake(".docx", layout=layout)
    original = path.read_bytes()
    archived, _ = process_one(tousu, workspace, path)
    old, new = assert_only_part_changed(original, archived.read_bytes(), DOCUMENT)
    assert NUMBER in word_texts(archived)
    assert number_read_back(archived.read_bytes(), ".docx") == NUMBER
    before, after = word_texts(path), word_texts(archived)
    assert len(before) == len(after)
    assert {(b, a) for b, a in zip(before, after, strict=True) if b != a} == {("", NUMBER)}   # only the blank slot
    assert b"<w:tc>" not in changed_middle(old, new)[1]                      # inside the one cell


def test_docx_body_paragraph_keeps_its_label_and_run_formatting(tousu, workspace, tmp_path):
    path = build_docx(INTAKE, INTAKE_VALUES, tmp_path / "正文编号.docx")
    document = docx.Document(path)
    for row in document.tables[0].rows:                   # the number's table cells go; a body line takes over
        for cell in row.cells:
            if cell.text.strip() == "投诉编号":
                cell.paragraphs[0].runs[0].text = "备注"
    line = document.add_paragraph()
    line.add_run("投诉编号").bold = True
    line.add_run("：")
    document.save(path)
    original = path.read_bytes()
    archived, _ = process_one(tousu, workspace, path)
    assert_only_part_changed(original, archived.read_bytes(), DOCUMENT)
    [paragraph] = [p for p in docx.Document(archived).paragraphs if p.text.startswith("投诉编号")]
    assert paragraph.text == f"投诉编号：{NUMBER}"
    assert [(r.text, r.bold) for r in paragraph.runs] == [(f"投诉编号：{NUMBER}", True), ("", None)]
    assert number_read_back(archived.read_bytes(), ".docx") == NUMBER


# ------------------------------------------------------------------ files saved by LibreOffice
@pytest.mark.parametrize("suffix", ["xlsx", "docx"])
def test_files_saved_by_libreoffice(tousu, workspace, intake, tmp_path, suffix):
    path = soffice_convert(intake(f".{suffix}"), suffix, tmp_path)
    original = path.read_bytes()
    archived, receipt = process_one(tousu, workspace, path)
    assert_only_part_changed(original, archived.read_bytes(), SHEET if suffix == "xlsx" else DOCUMENT)
    if suffix == "xlsx":
        assert cell_value(archived, receipt["number_cell"]) == NUMBER
    else:
        assert NUMBER in word_texts(archived)
    assert number_read_back(archived.read_bytes(), f".{suffix}") == NUMBER


def test_a_shared_string_placeholder_becomes_an_inline_string(tousu, workspace, intake, tmp_path):
    """LibreOffice stores text as shared strings: the cell that held 待编号 now holds the number inline;
    sharedStrings.xml is left as it was (the placeholder string just goes unused)."""
    path = soffice_convert(intake(number="待编号"), "xlsx", tmp_path)
    original = path.read_bytes()
    assert "待编号" in zipfile.ZipFile(path).read("xl/sharedStrings.xml").decode()
    archived, receipt = process_one(tousu, workspace, path)
    old, new = assert_only_part_changed(original, archived.read_bytes(), SHEET)
    ref = receipt["number_cell"]
    before = re.search(rf'<c r="{ref}"([^>]*)>(.*?)</c>'.encode(), old)
    after = re.search(rf'<c r="{ref}"([^>]*)>(.*?)</c>'.encode(), new)
    assert b't="s"' in before.group(1)
    assert after.group(1) == before.group(1).replace(b't="s"', b't="inlineStr"')   # style s= kept
    assert after.group(2) == b"<is><t>TS2026110001</t></is>"
    assert cell_value(archived, ref) == NUMBER
    assert any(p["field"] == "投诉编号" for p in receipt["problems"])               # the placeholder defect


# ------------------------------------------------------------------ the shipped templates, filled in
@pytest.mark.parametrize("template", ["附件1 客户投诉受理记录单.xlsx", "附件1 客户投诉受理记录单.docx", "tousu_excel.xlsm"])
def test_shipped_templates_filled_in(tousu, workspace, tmp_path, template):
    blank = TEMPLATES / template
    path = filled_template(blank, tmp_path)
    original = path.read_bytes()
    archived, receipt = process_one(tousu, workspace, path)
    suffix = blank.suffix
    if suffix == ".docx":
        assert_only_part_changed(original, archived.read_bytes(), DOCUMENT)
        assert NUMBER in word_texts(archived)
    else:
        sheet = load_xlsx(original).pages[0].grids[0].name
        part = "xl/worksheets/sheet1.xml"
        assert_only_part_changed(original, archived.read_bytes(), part)
        assert cell_value(archived, receipt["number_cell"]) == NUMBER
        assert sheet_values(archived.read_bytes(), sheet)[receipt["number_cell"]][0] == NUMBER
    assert number_read_back(archived.read_bytes(), suffix) == NUMBER


def test_the_button_workbook_keeps_its_vba_and_buttons(tousu, workspace, tmp_path):
    """A submission through templates/tousu_excel.xlsm: the VBA project, the buttons (VML form
    controls) and every sheet but the form's are the template's own bytes in the archived copy."""
    blank = TEMPLATES / "tousu_excel.xlsm"
    archived, _ = process_one(tousu, workspace, filled_template(blank, tmp_path))
    template, kept = raw_members(blank.read_bytes()), {m[0]: m[1:] for m in raw_members(archived.read_bytes())}
    carried = [name for name, *_ in template if name != "xl/worksheets/sheet1.xml"]
    assert "xl/vbaProject.bin" in carried and any(name.startswith("xl/drawings/vml") for name in carried)
    assert all(kept[name] == tuple(rest) for name, *rest in template if name in carried)


# ------------------------------------------------------------------ patch_text itself
def _sheet_with(tmp_path: Path, cells: dict, column_style: bool = False) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "表"
    for ref, value in cells.items():
        ws[ref] = value
    if column_style:
        ws.column_dimensions["C"].font = openpyxl.styles.Font(bold=True)
    book.save(tmp_path / "t.xlsx")
    return (tmp_path / "t.xlsx").read_bytes()


def test_patch_creates_rows_and_cells_in_order(tmp_path):
    data = _sheet_with(tmp_path, {"A1": "甲", "B3": "乙", "D3": "丙", "A9": "丁"})
    for row, col in ((5, 3), (3, 3), (3, 1), (12, 2)):
        data = patch_text(data, SheetPlace("表", row, col), f"<{row},{col}>&")
    sheet = zipfile.ZipFile(io.BytesIO(data)).read(SHEET).decode()
    assert re.findall(r'<row r="(\d+)"', sheet) == ["1", "3", "5", "9", "12"]
    assert re.findall(r'<c r="([A-Z]+3)"', sheet) == ["A3", "B3", "C3", "D3"]
    ws = openpyxl.load_workbook(io.BytesIO(data))["表"]
    assert [ws[ref].value for ref in ("C5", "C3", "A3", "B12", "B3", "D3")] == \
        ["<5,3>&", "<3,3>&", "<3,1>&", "<12,2>&", "乙", "丙"]


def test_a_new_cell_takes_its_columns_style(tmp_path):
    data = patch_text(_sheet_with(tmp_path, {"A1": "甲"}, column_style=True), SheetPlace("表", 4, 3), "TS")
    ws = openpyxl.load_workbook(io.BytesIO(data))["表"]
    assert ws["C4"].value == "TS" and ws["C4"].font.bold


def test_what_cannot_be_patched_says_so(tmp_path):
    data = _sheet_with(tmp_path, {"A1": "=1+1"})
    with pytest.raises(CannotPatch, match="formula"):
        patch_text(data, SheetPlace("表", 1, 1), NUMBER)
    with pytest.raises(CannotPatch, match="not found"):
        patch_text(data, SheetPlace("没有这张表", 1, 1), NUMBER)
    with pytest.raises(CannotPatch):
        patch_text(b"not a zip", WordPlace((0, 0)), NUMBER)


def test_a_formula_slot_falls_back_to_saving_the_whole_workbook(tousu, workspace, intake):
    path = intake()
    rewrite_member(path, SHEET, lambda xml: re.sub(rb'<c r="B4"[^>]*>(</c>)?', b'<c r="B4" s="3"><f>""</f></c>', xml))
    archived, receipt = process_one(tousu, workspace, path)
    assert receipt["number_cell"] == "B4" and cell_value(archived, "B4") == NUMBER


def _word_cell(tmp_path: Path, fill) -> tuple[bytes, WordPlace]:
    """A one-cell Word table filled by `fill(cell)`; the document's bytes and the cell's place."""
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    fill(cell)
    document.save(tmp_path / "w.docx")
    data = (tmp_path / "w.docx").read_bytes()
    return data, load_docx(data).pages[0].grids[1].at(1, 1).locator


def test_a_word_cell_is_emptied_but_for_the_number_in_its_first_run(tmp_path):
    def fill(cell):
        first = cell.paragraphs[0]
        first.add_run("待").italic = True
        first.add_run("编号")
        cell.add_paragraph("旧的编号")
    data, place = _word_cell(tmp_path, fill)
    patched = docx.Document(io.BytesIO(patch_text(data, place, "TS<&>1")))
    paragraphs = patched.tables[0].cell(0, 0).paragraphs
    assert [p.text for p in paragraphs] == ["TS<&>1", ""]
    assert paragraphs[0].runs[0].italic                   # the first run's formatting kept


def test_an_empty_word_cell_gets_a_run_formatted_like_its_paragraph_mark(tmp_path):
    def fill(cell):
        properties = cell.paragraphs[0]._p.get_or_add_pPr()
        properties.append(docx.oxml.parse_xml(
            '<w:rPr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:b/></w:rPr>'))
    data, place = _word_cell(tmp_path, fill)
    patched = docx.Document(io.BytesIO(patch_text(data, place, NUMBER)))
    [run] = patched.tables[0].cell(0, 0).paragraphs[0].runs
    assert (run.text, run.bold) == (NUMBER, True)


def test_the_sheet_is_found_by_its_title_through_the_workbook_relationships(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active["A1"] = "说明页"
    book.create_sheet("受理记录单")["A1"] = "客户投诉受理记录单"
    book.save(tmp_path / "two.xlsx")
    original = (tmp_path / "two.xlsx").read_bytes()
    patched = patch_text(original, SheetPlace("受理记录单", 2, 2), NUMBER)
    assert_only_part_changed(original, patched, "xl/worksheets/sheet2.xml")
    reopened = openpyxl.load_workbook(io.BytesIO(patched))
    assert (reopened["受理记录单"]["B2"].value, reopened["说明"]["B2"].value) == (NUMBER, None)


def test_a_form_that_already_holds_its_number_is_archived_as_received(tousu, workspace, intake, tmp_path):
    first, _ = process_one(tousu, workspace, intake())
    again = tmp_path / "再次提交.xlsx"
    shutil.copyfile(first, again)
    code, lines, output = tousu("process", again)
    assert code == 0 and lines[-1]["number"] == NUMBER, output
    [second] = (workspace / "archive").glob("2*/*/*/*-v2.xlsx")
    assert second.read_bytes() == again.read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(present=st.dictionaries(st.tuples(st.integers(1, 12), st.integers(1, 6)), st.text("甲乙 1", max_size=3),
                               max_size=12),
       row=st.integers(1, 14), col=st.integers(1, 8),
       text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12))
def test_any_text_at_any_position_reads_back_and_nothing_else_moves(tmp_path, present, row, col, text):
    cells = {openpyxl.utils.get_column_letter(c) + str(r): value for (r, c), value in present.items()}
    data = _sheet_with(tmp_path, cells)
    patched = patch_text(data, SheetPlace("表", row, col), text)
    ref = openpyxl.utils.get_column_letter(col) + str(row)
    before, after = sheet_values(data, "表"), sheet_values(patched, "表")
    assert after.pop(ref)[0] == text
    before.pop(ref, None)
    assert before == after


@pytest.mark.parametrize(("suffix", "target"), [(".xlsx", "csv"), (".docx", "txt")])
def test_the_patched_copy_opens_in_libreoffice_with_the_number(tousu, workspace, intake, tmp_path, suffix, target):
    archived, _ = process_one(tousu, workspace, intake(suffix))
    text = soffice_convert(archived, target, tmp_path).read_text(encoding="utf-8", errors="replace")
    assert NUMBER in text
