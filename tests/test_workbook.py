"""The button workbook templates/tousu_excel.xlsm, read as Excel reads it (no Excel needed): every form
and action sheet has a button labelled in Chinese whose macro is defined in the workbook's VBA project,
that macro runs tousu_excel.main(), and the VBA names the xlwings DLL of the version pyproject pins."""
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import olefile
import pytest
from fake_xlwings import FakeBook

from toolkit import xl
from toolkit.paths import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent
WORKBOOK = TEMPLATES / "tousu_excel.xlsm"
EXPECTED = {"受理记录单": "提交本表", "调查处理反馈单": "提交本表", "回访记录单": "提交本表", "延期申请单": "提交本表",
            "申诉单": "提交本表", "台帐": "更新台帐", "督办": "生成督办单", "考核": "显示本月考核"}
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships",
      "x": "urn:schemas-microsoft-com:office:excel"}
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


# ---------------------------------------------------------------- reading the package as Excel does
def _part(base: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else \
        str(PurePosixPath(base).parent.joinpath(target)).replace("/./", "/")


def _rels(package, part: str) -> dict:
    path = str(PurePosixPath(part).parent / "_rels" / f"{PurePosixPath(part).name}.rels")
    if path not in package.namelist():
        return {}
    root = ElementTree.fromstring(package.read(path))
    return {rel.get("Id"): _part(part, rel.get("Target")) for rel in root.findall("p:Relationship", NS)}


def buttons(path: Path) -> dict:
    """Sheet name -> [(caption, macro)] of the form-control buttons in the sheet's VML drawing."""
    found = {}
    with zipfile.ZipFile(path) as package:
        sheets = _rels(package, "xl/workbook.xml")
        for sheet in ElementTree.fromstring(package.read("xl/workbook.xml")).findall("m:sheets/m:sheet", NS):
            part = sheets[sheet.get(R_ID)]
            legacy = ElementTree.fromstring(package.read(part)).find("m:legacyDrawing", NS)
            if legacy is None:
                continue
            vml = package.read(_rels(package, part)[legacy.get(R_ID)]).decode("utf-8")
            shapes = re.findall(r"<v:shape\b.*?</v:shape>", vml, re.DOTALL)
            found[sheet.get("name")] = [
                (re.sub(r"<[^>]+>", "", re.search(r"<v:textbox.*?</v:textbox>", s, re.DOTALL).group(0)).strip(),
                 re.search(r"<x:FmlaMacro>(?:\[0\]!)?(.*?)</x:FmlaMacro>", s).group(1))
                for s in shapes if 'ObjectType="Button"' in s]
    return found


def decompress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 decompression of a CompressedContainer."""
    assert data[0] == 1, "not a VBA compressed container"
    out, pos = bytearray(), 1
    while pos < len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        end, pos, start = min(len(data), pos + (header & 0x0FFF) + 3), pos + 2, len(out)
        if not header & 0x8000:
            out += data[pos:pos + 4096]
            pos += 4096
            continue
        while pos < end:
            flags, pos = data[pos], pos + 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags >> bit & 1:
                    out.append(data[pos])
                    pos += 1
                    continue
                token, pos = struct.unpack_from("<H", data, pos)[0], pos + 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                offset, length = (token >> (16 - bits)) + 1, (token & (0xFFFF >> bits)) + 3
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def vba_modules(path: Path) -> dict:
    """Module name -> VBA source text, from xl/vbaProject.bin (its dir stream gives each module's offset)."""
    with zipfile.ZipFile(path) as package:
        ole = olefile.OleFileIO(package.read("xl/vbaProject.bin"))
    directory, pos, modules, name = decompress(ole.openstream("VBA/dir").read()), 0, {}, None
    while pos < len(directory):
        record, size = struct.unpack_from("<HI", directory, pos)
        size = 6 if record == 0x0009 else size              # PROJECTVERSION: its size field lies
        value, pos = directory[pos + 6:pos + 6 + size], pos + 6 + size
        if record == 0x001A:                                # MODULESTREAMNAME
            name = value.decode("latin-1")
        elif record == 0x0031:                              # MODULEOFFSET: the source after the p-code
            stream = ole.openstream(f"VBA/{name}").read()
            modules[name] = decompress(stream[struct.unpack("<I", value)[0]:]).decode("latin-1")
    return modules


def macros(source: str) -> dict:
    """Sub name -> body of every parameterless Sub (what a button can run)."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^Sub (\w+)\(\)\s*$(.*?)^End Sub", source, re.MULTILINE | re.DOTALL)}


# ---------------------------------------------------------------- the tests
def test_every_form_and_action_sheet_has_a_chinese_button(tmp_path):
    found = buttons(WORKBOOK)
    assert {sheet: [caption for caption, _ in shown] for sheet, shown in found.items()} == \
        {sheet: [caption] for sheet, caption in EXPECTED.items()}


def test_each_button_runs_a_macro_of_the_vba_project_that_calls_main():
    defined = {name: body for source in vba_modules(WORKBOOK).values() for name, body in macros(source).items()}
    named = {macro for shown in buttons(WORKBOOK).values() for _, macro in shown}
    assert named == {"SampleCall"} and named <= set(defined)
    body = defined["SampleCall"]
    # RunPython "import tousu_excel;tousu_excel.main()": the module is named after the workbook
    assert "RunPython" in body and '".main()"' in body and "ThisWorkbook.Name" in body


def test_main_dispatches_each_button_sheet(monkeypatch, tmp_path):
    """The one macro serves every button: main() submits a form sheet and runs the action of the others."""
    book = FakeBook(shutil.copy(WORKBOOK, tmp_path / "tousu_excel.xlsm"))
    called = []
    monkeypatch.setattr(xl, "submit", lambda book, clock: called.append("submit"))
    for sheet, action in [("台帐", "refresh_ledger"), ("督办", "notices_today"), ("考核", "score_this_month")]:
        monkeypatch.setitem(xl.ACTIONS, sheet, lambda book, clock, action=action: called.append(action))
    for sheet in EXPECTED:
        book.activate(sheet)
        xl.main(book)
    assert called == ["submit"] * 5 + ["refresh_ledger", "notices_today", "score_this_month"]


def test_the_vba_names_the_xlwings_version_pyproject_pins():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    pinned = re.fullmatch(r"xlwings==([\d.]+)", extra["excel"][0]).group(1)
    source = vba_modules(WORKBOOK)["xlwings"]
    assert set(re.findall(r'"xlwings(?:32|64)-([\d.]+)\.dll"', source)) == {pinned}


def test_buttons_survive_a_save_through_openpyxl(tmp_path):
    """A clerk's save (here: openpyxl with keep_vba, as the fake xlwings Book saves) keeps the buttons."""
    book = FakeBook(shutil.copy(WORKBOOK, tmp_path / "tousu_excel.xlsm"))
    book.activate("回访记录单")
    book.save()
    assert buttons(tmp_path / "tousu_excel.xlsm") == buttons(WORKBOOK)


def test_the_generator_has_help_and_never_overwrites_silently(tmp_path):
    done = subprocess.run([sys.executable, "-m", "toolkit.excel_workbook", "--help"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0 and "--output" in done.stdout and "例：" in done.stdout
    existing = tmp_path / "tousu_excel.xlsm"
    existing.write_bytes(b"keep")
    done = subprocess.run([sys.executable, "-m", "toolkit.excel_workbook", "-o", str(existing)], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path, check=False)
    assert done.returncode == 2 and "--force" in done.stderr and existing.read_bytes() == b"keep"


@pytest.mark.skipif(shutil.which("xlwings") is None, reason="xlwings (the excel extra) is not installed")
def test_the_generator_writes_the_shipped_workbook(tmp_path):
    done = subprocess.run([sys.executable, "-m", "toolkit.excel_workbook"], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert buttons(tmp_path / "tousu_excel.xlsm") == buttons(WORKBOOK)
    assert vba_modules(tmp_path / "tousu_excel.xlsm") == vba_modules(WORKBOOK)
