"""Issue 11 item 1: files that would make the parsers build millions of objects (or read gigabytes)
are refused before any parser runs — each through the real `tousu check` in a child process, in
< 2 s and < 200 MB peak RSS, with a Chinese message that says how to fix it. Forms stay accepted."""
import zipfile
from pathlib import Path

import pytest
from conftest import INTAKE_VALUES

from toolkit.forms.build import LAYOUTS, build
from toolkit.forms.kinds import INTAKE, KINDS
from toolkit.forms.safety import MAX_FILE_BYTES, check_size, sniff
from toolkit.hostile import CORPUS, SHEET, measure, rewrite, sheet_insert, write_corpus
from toolkit.paths import SAMPLES, TEMPLATES

pytestmark = pytest.mark.slow                  # runs the installed `tousu` as a subprocess

HINTS = {
    "merge-F20-XFD1048576.xlsx": "工作表含有超大范围的合并单元格（F20:XFD1048576），请取消多余的合并",
    "hyperlink-F20-XFD1048576.xlsx": "超链接（F20:XFD1048576），请删除该超链接",
    "conditional-format-F20-XFD1048576.xlsx": "条件格式（F20:XFD1048576），请在「条件格式→管理规则」中删除",
    "data-validation-F20-XFD1048576.xlsx": "数据验证（F20:XFD1048576），请在「数据验证」中删除",
    "seven-sheets-8MB.xlsx": "工作表的单元格过多（超过 20000 个），不是一张表单。请删除表单以外多余的行",
    "elements-700k.xlsx": "文件内部结构过于庞大（XML 元素过多），不是一张表单，已拒收。请只保留表单所在的区域",
    "sparse-3GiB.xlsx": "文件过大（3,072.0 MB，上限 20 MB），不是一张表单。请删除插入的图片",
    "tables-500.docx": "文档含有过多的表格（超过 50 个）",
    "tables-nested-40.docx": "文档中的表格嵌套过深（超过 3 层），请取消表格中的嵌套表格",
    "table-rows-30000.docx": "文档表格的行数过多（超过 2000 行）",
    "cell-span-30M.docx": "文档表格的单元格过多（超过 20000 个），不是一张表单。请删除多余的表格",
}
SECONDS, MEBIBYTES = 2.0, 200


def test_the_corpus_and_its_hints_agree():
    assert sorted(HINTS) == sorted(CORPUS)


@pytest.mark.parametrize("name", list(CORPUS))
def test_refused_by_the_real_cli_fast_and_small(name, tmp_path):
    path = write_corpus(tmp_path, [name])[0]
    size, modified = path.stat().st_size, path.stat().st_mtime_ns
    outcome = measure(path, timeout=30)
    assert outcome.refused, outcome.output
    assert HINTS[name] in outcome.output
    assert "Traceback" not in outcome.output
    assert outcome.seconds < SECONDS, f"{name}: {outcome.seconds:.2f} s"
    assert outcome.peak_mib < MEBIBYTES, f"{name}: {outcome.peak_mib:.0f} MiB"
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (size, modified)     # input untouched


def test_a_file_over_the_cap_is_refused_by_stat_without_being_read(tousu, tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES)
    assert check_size(path) is None
    with open(path, "r+b") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"{self.name} read before its size was checked"))
    code, lines, _ = tousu("check", path)
    assert code == 1 and "上限 20 MB" in lines[0]["problems"][0]["message"]


def _shipped_forms():
    return sorted(p for folder in (TEMPLATES, SAMPLES) for p in folder.iterdir()
                  if p.suffix in (".xlsx", ".xlsm", ".docx"))


@pytest.mark.parametrize("path", _shipped_forms(), ids=lambda p: p.name)
def test_templates_and_samples_pass_the_safety_pass(path):
    fmt, problem = sniff(path, path.read_bytes())
    assert problem is None and fmt in ("xlsx", "docx")


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_built_form_passes_the_safety_pass(suffix, layout, tmp_path):
    for kind in KINDS:
        path = build(kind, {}, tmp_path / f"{kind.key}-{layout}{suffix}", layout)
        assert sniff(path, path.read_bytes()) == (suffix[1:], None), path.name


def _with_sheet_xml(tmp_path, element: str) -> Path:
    path = build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx")
    return rewrite(path, {SHEET: sheet_insert(element)})


def _validation(sqref: str) -> str:
    return (f'<dataValidations count="1"><dataValidation type="list" sqref="{sqref}">'
            f'<formula1>"满意,不满意"</formula1></dataValidation></dataValidations>')


@pytest.mark.parametrize("sqref, refused", [
    ("D:D", False), ("D1:D1048576", False), ("C5:D5 1:1", False), ("B2:AN300", False),    # a column, a row, the form
    ("A:XFD", True), ("A1:XFD1048576", True), ("B2:C3 $F$20:$XFD$1048576", True),        # the whole sheet
])
def test_data_validation_on_a_column_is_a_form_on_the_whole_sheet_is_not(sqref, refused, tmp_path):
    path = _with_sheet_xml(tmp_path, _validation(sqref))
    _, problem = sniff(path, path.read_bytes())
    assert (problem is not None) == refused, problem


@pytest.mark.parametrize("refs, refused", [
    (["A20:AN300"], False),                       # a large merge inside the form area
    (["A1:A10001"], True),                        # past row 10,000
    (["A1:GS1"], True),                           # past column 200 (GR)
    ([f"A{r}:GR{r + 99}" for r in range(20, 1020, 100)], True),    # 10 merges of 20,000 cells: 200,000 together
])
def test_merges_are_bounded_by_reach_and_by_the_cells_they_cover(refs, refused, tmp_path):
    path = build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx")
    merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
    rewrite(path, {SHEET: lambda xml: xml.replace("</mergeCells>", merges + "</mergeCells>")})
    _, problem = sniff(path, path.read_bytes())
    assert (problem is not None) == refused, problem


def test_a_dimension_that_lies_is_not_trusted_either_way(tousu, tmp_path):
    path = build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx")
    rewrite(path, {SHEET: lambda xml: xml.replace('<dimension ref="A1:D12"/>', '<dimension ref="A1:XFD1048576"/>')})
    assert '<dimension ref="A1:XFD1048576"/>' in zipfile.ZipFile(path).read(SHEET).decode()
    code, lines, _ = tousu("check", path)
    assert code == 0 and lines[0]["status"] == "accepted"


def test_too_many_sheets_is_refused(tmp_path):
    import openpyxl
    book = openpyxl.load_workbook(build(INTAKE, INTAKE_VALUES, tmp_path / "form.xlsx"))
    for n in range(51):
        book.create_sheet(f"S{n}")
    book.save(tmp_path / "form.xlsx")
    _, problem = sniff(tmp_path / "form.xlsx", (tmp_path / "form.xlsx").read_bytes())
    assert "工作簿含有过多的工作表（超过 50 张）" in problem.message
