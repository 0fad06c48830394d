"""Broken and hostile files: refused quickly, with a Chinese message saying how to fix it; the
input is untouched and nothing is archived or numbered."""
import io
import time
import zipfile

import openpyxl
import pytest
from conftest import archived_files

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def rewrite_part(source: bytes, part: str, content: bytes) -> bytes:
    """The same OOXML package with one part replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            new.writestr(item.filename, content if item.filename == part else old.read(item.filename))
    return out.getvalue()


def billion_laughs() -> bytes:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY l0 "ha">{entities}]>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData>'
            '</worksheet>').encode()


def million_rows() -> bytes:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(1, 1_000_001))
    return ('<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetData>{rows}</sheetData></worksheet>').encode()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 * 1024 * 1024))
    return out.getvalue()


CASES = {
    # legacy formats are read (SPEC §3, tests/test_legacy_formats.py); broken ones are refused
    "damaged.xls": (lambda valid: OLE + b"\0" * 1024, "另存为 .xlsx"),
    "not-ole.wps": (lambda valid: b"WPS", "另存为 .docx"),
    "not-biff.et": (lambda valid: b"ET", "另存为 .xlsx"),
    "truncated.ods": (lambda valid: b"PK\x03\x04", "不完整或已损坏"),
    "writer.odt": (lambda valid: valid, "另存为 .docx"),
    "workbook.ods": (lambda valid: valid, "不是 Excel 工作簿"),
    "renamed.xlsx": (lambda valid: OLE + b"\0" * 1024, "旧版 Office"),
    "encrypted.xlsx": (lambda valid: OLE + b"\0" * 512 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64,
                       "文件已加密，请取消密码后另存"),
    "empty.xlsx": (lambda valid: b"", "空的"),
    "truncated.xlsx": (lambda valid: valid[: len(valid) // 2], "不完整或已损坏"),
    "text.xlsx": (lambda valid: "客户投诉受理记录单".encode(), "不是有效的 Office 文档"),
    "bomb.xlsx": (lambda valid: zip_bomb(), "过大"),
    "laughs.xlsx": (lambda valid: rewrite_part(valid, "xl/worksheets/sheet1.xml", billion_laughs()), "实体"),
    "external.xlsx": (lambda valid: rewrite_part(
        valid, "xl/worksheets/sheet1.xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><worksheet>&e;</worksheet>'),
        "实体"),
    "million.xlsx": (lambda valid: rewrite_part(valid, "xl/worksheets/sheet1.xml", million_rows()), "上百万行"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_fast_with_a_fix(name, tousu, workspace, intake, tmp_path):
    make, hint = CASES[name]
    path = tmp_path / name
    path.write_bytes(make(intake().read_bytes()))
    before = path.read_bytes()
    started = time.monotonic()
    code, lines, _ = tousu("process", path)
    elapsed = time.monotonic() - started
    assert code == 1 and lines[0]["status"] == "refused" and lines[0]["number"] is None
    assert hint in lines[0]["problems"][0]["message"], lines[0]["problems"]
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s"
    assert path.read_bytes() == before and archived_files(workspace) == []


def test_workbook_that_is_not_a_form(tousu, tmp_path):
    book = openpyxl.Workbook()
    book.active["A1"] = "十一月燃气用量统计"
    path = tmp_path / "stats.xlsx"
    book.save(path)
    code, lines, _ = tousu("process", path)
    assert code == 1 and "不是可识别的表单" in lines[0]["problems"][0]["message"]


def test_a_refused_file_does_not_stop_the_batch(tousu, intake, tmp_path):
    bad = tmp_path / "bad.xls"
    bad.write_bytes(OLE)
    code, lines, _ = tousu("process", bad, intake())
    assert code == 1 and [l["status"] for l in lines] == ["refused", "accepted"]


def test_the_watcher_moves_every_hostile_file_to_rejected(tmp_path, intake):
    """Each case above dropped into inbox/: all end in rejected/ beside a Chinese 错误说明, nothing else."""
    import subprocess
    import sys
    from pathlib import Path
    valid = intake().read_bytes()
    inbox = tmp_path / "ws" / "inbox"
    inbox.mkdir(parents=True)
    for name, (make, _) in CASES.items():
        (inbox / name).write_bytes(make(valid))
    odd = "..\\..\\" + "投诉#%&{}$!'`~^ (copy) " * 9 + ".xls"     # 199 characters, 235 bytes, escape attempt
    (inbox / odd).write_bytes(OLE)
    tousu = str(Path(sys.executable).parent / "tousu")
    done = subprocess.run([tousu, "watch", "-w", str(tmp_path / "ws"), "--once", "--settle", "0.2"],
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "TOUSU_NOW": "2026-11-21T09:00:00"})
    assert done.returncode == 0, done.stderr
    ws = tmp_path / "ws"
    assert list(inbox.iterdir()) == [] and not list((ws / "archive").rglob("*.xlsx"))
    rejected = sorted(p.name for p in (ws / "rejected").iterdir() if not p.name.endswith(".错误说明.txt"))
    assert len(rejected) == len(CASES) + 1
    for name in rejected:
        explanation = (ws / "rejected" / f"{name}.错误说明.txt").read_text(encoding="utf-8")
        assert "已拒收" in explanation and "请" in explanation
    assert len(odd) == 199
    safe = [n for n in rejected if "(copy)" in n]
    assert len(safe) == 1 and len(safe[0].encode()) <= 180 and "\\" not in safe[0] and safe[0].endswith(".xls")
    assert not safe[0].startswith(".")
    assert all(p.parent == ws / "rejected" for p in (ws / "rejected").iterdir())


def test_no_output_workbook_ever_holds_a_formula(tousu, form, workspace):
    from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED

    from toolkit.forms.kinds import FEEDBACK, INTAKE
    hostile = dict(customer_name='=HYPERLINK("http://evil","点我")', address="@SUM(1)", content="+cmd|' /C calc'!A0",
                   demand="-2+3", target="\t=1")
    for i in range(3):                                              # three times: a repeat customer too
        tousu("process", form(INTAKE, dict(INTAKE_VALUES, **hostile, received_at=f"2026-11-{18 + i} 09:00")))
    tousu("process", form(FEEDBACK, dict(FEEDBACK_VALUES, **{k: v for k, v in hostile.items() if k != "demand"},
                                         result="=1+1", received_at="2026-11-18 09:00", **REVIEWED)))
    tousu("score", "--month", "2026-11")
    tousu("report", "--month", "2026-11")
    outputs = list((workspace / "ledger").glob("*.xlsx")) + list((workspace / "reports").glob("*.xlsx"))
    assert len(outputs) == 3
    texts = 0
    for path in outputs:
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}: {cell.value}"
                    texts += isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t"))
    assert texts >= 10
