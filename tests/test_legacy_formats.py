"""Legacy formats (SPEC §3): .xls, BIFF-compatible WPS .et and .ods are read with python-calamine, .doc/.wps
through LibreOffice; the archive keeps the file as received byte for byte and a numbered .xlsx/.docx twin
beside it, with one sidecar on the twin. Encrypted OLE files stay refused."""
import hashlib
import io
import json
import shutil
import subprocess
import time
import zipfile
from datetime import datetime

import docx
import openpyxl
import pytest
from conftest import INTAKE_VALUES, archived_files

from toolkit import archive
from toolkit.clock import Clock
from toolkit.forms.grid import load
from toolkit.forms.kinds import INTAKE
from toolkit.forms.safety import sniff
from toolkit.process import process
from toolkit.workspace import Workspace

xlwt = pytest.importorskip("xlwt", reason="xlwt (writes .xls for the tests) is not installed")
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
NUMBER = "TS2026110001"
ARCHIVED = f"archive/2026/11/{NUMBER}/{NUMBER}-{INTAKE.name}-v1"


def annex_xls(path, phone=13805931234):
    """An intake laid out as the annex in a BIFF8 workbook: merged title and value cells, a hidden sheet
    whose labels must not leak, the time as a real date, the phone typed as a number."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("受理记录单")
    sheet.write_merge(0, 0, 0, 3, INTAKE.title)
    rows = [("客户姓名", INTAKE_VALUES["customer_name"]), ("客户地址", INTAKE_VALUES["address"]),
            ("联系方式", phone), ("投诉对象", INTAKE_VALUES["target"]), ("投诉编号", None),
            ("受理时间", INTAKE_VALUES["received_at"]), ("受理渠道", INTAKE_VALUES["channel"]),
            ("受理人", INTAKE_VALUES["receiver"]), ("投诉类别", "非重大投诉"),
            ("投诉内容", INTAKE_VALUES["content"]), ("客户要求", INTAKE_VALUES["demand"])]
    dated = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for r, (label, value) in enumerate(rows, start=1):
        sheet.write(r, 0, label)
        if isinstance(value, datetime):
            sheet.write_merge(r, r, 1, 3, value, dated)
        else:
            sheet.write_merge(r, r, 1, 3, value)
    hidden = book.add_sheet("旧稿")
    hidden.write(0, 0, "客户姓名")
    hidden.write(0, 1, "不该读到")
    hidden.visibility = 1
    book.save(str(path))
    return path


def convert(path, fmt, out):
    """LibreOffice's conversion of `path` to `fmt` in `out` (a private profile, with a time limit)."""
    out.mkdir(exist_ok=True)
    subprocess.run([SOFFICE, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless",
                    "--convert-to", fmt, "--outdir", str(out), str(path)], check=True, timeout=120,
                   capture_output=True)
    return out / f"{path.stem}.{fmt.split(':')[0]}"


def reading_of(path):
    fmt, problem = sniff(path, path.read_bytes())
    assert problem is None, problem
    return load(fmt, path.read_bytes(), path.suffix)


def test_xls_values_and_merged_ranges(tmp_path):
    source = reading_of(annex_xls(tmp_path / "form.xls"))
    assert source.format == "xls" and [page.grids[0].name for page in source.pages] == ["受理记录单"]
    grid = source.pages[0].grids[0]
    name = grid.at(2, 2)
    assert (name.value, name.where, name.last_col) == ("陈美华", "B2", 4)
    assert grid.at(2, 4) is name                        # the merged range is one cell
    assert grid.at(7, 2).value == datetime(2026, 11, 20, 15, 30)
    assert grid.at(4, 2).value == 13805931234          # a whole number comes back as an int
    assert source.pages[0].headings[0] == INTAKE.title


def test_xls_intake_accepted_original_kept_with_numbered_twin(tousu, workspace, tmp_path):
    path = annex_xls(tmp_path / "受理单.xls", phone=5932856677)
    received = path.read_bytes()
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["status"] == "accepted" and lines[0]["number"] == NUMBER, lines
    assert archived_files(workspace) == [f"{ARCHIVED}.xls", f"{ARCHIVED}.xlsx", f"{ARCHIVED}.xlsx.meta.json"]
    assert (workspace / f"{ARCHIVED}.xls").read_bytes() == received == path.read_bytes()
    twin = openpyxl.load_workbook(workspace / f"{ARCHIVED}.xlsx")
    assert twin.sheetnames == ["受理记录单"]             # the hidden sheet stays in the original only
    sheet = twin.active
    assert sheet["B6"].value == NUMBER and sheet["B2"].value == "陈美华"
    assert "B2:D2" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["B7"].value == datetime(2026, 11, 20, 15, 30)
    sidecar = json.loads((workspace / f"{ARCHIVED}.xlsx.meta.json").read_text("utf-8"))
    assert sidecar["original_name"] == "受理单.xls" and sidecar["sha256"] == hashlib.sha256(received).hexdigest()
    assert sidecar["fields"]["phone"] == "0593-2856677"   # typed as a number, the dropped 0 comes back
    assert tousu("ledger", "rebuild")[0] == 0
    assert tousu("process", path)[1][0]["status"] == "duplicate"   # the original's hash survives the rebuild


def test_control_characters_do_not_stop_the_twin(tousu, workspace, tmp_path):
    """BIFF text may hold characters an .xlsx cannot (a bell in the content): read and written without them."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("受理记录单")
    rows = [(INTAKE.title, None), ("受理时间", "2026-11-20 15:30"), ("受理渠道", "客服热线"),
            ("投诉内容", "燃气表\x07漏气"), ("投诉编号", None)]
    for r, (label, value) in enumerate(rows):
        sheet.write(r, 0, label)
        sheet.write(r, 1, value)
    book.save(str(tmp_path / "bell.xls"))
    code, lines, _ = tousu("process", tmp_path / "bell.xls")
    assert code == 0 and lines[0]["number"] == NUMBER, lines
    twin = openpyxl.load_workbook(workspace / f"{ARCHIVED}.xlsx").active
    assert (twin["B4"].value, twin["B5"].value) == ("燃气表漏气", NUMBER)


def test_et_is_an_xls_renamed(tousu, workspace, tmp_path):
    path = annex_xls(tmp_path / "wps.et")
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["number"] == NUMBER
    assert (workspace / f"{ARCHIVED}.et").read_bytes() == path.read_bytes()
    assert (workspace / f"{ARCHIVED}.xlsx").exists()


@needs_soffice
def test_ods_read_with_merges_and_twin(tousu, workspace, tmp_path):
    path = convert(annex_xls(tmp_path / "form.xls"), "ods", tmp_path / "ods")
    source = reading_of(path)
    grid = source.pages[0].grids[0]
    assert source.format == "ods" and grid.at(2, 4) is grid.at(2, 2) and grid.at(2, 2).value == "陈美华"
    assert len(source.pages) == 1                         # the hidden sheet is not read
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["number"] == NUMBER
    assert (workspace / f"{ARCHIVED}.ods").read_bytes() == path.read_bytes()
    assert openpyxl.load_workbook(workspace / f"{ARCHIVED}.xlsx").active["B6"].value == NUMBER


@needs_soffice
@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_word_97_converted_by_libreoffice(tousu, workspace, intake, tmp_path, suffix):
    """.wps: a WPS 文字 file kept in the Word 97 format, as WPS saves it for compatibility."""
    path = convert(intake(".docx"), "doc:MS Word 97", tmp_path / "doc")
    path = path.rename(path.with_suffix(suffix))
    code, lines, _ = tousu("process", path)
    assert code == 0 and lines[0]["number"] == NUMBER, lines
    assert (workspace / f"{ARCHIVED}{suffix}").read_bytes() == path.read_bytes()
    twin = docx.Document(workspace / f"{ARCHIVED}.docx")
    assert NUMBER in [cell.text for table in twin.tables for row in table.rows for cell in row.cells]


def test_doc_without_libreoffice_refused_with_the_fix(tousu, workspace, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = tmp_path / "form.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    code, lines, _ = tousu("process", path)
    message = lines[0]["problems"][0]["message"]
    assert code == 1 and "未安装 LibreOffice" in message and "请在 Word/WPS 中另存为 .docx 后重新放入" in message
    assert archived_files(workspace) == []


@pytest.mark.parametrize("suffix", [".xls", ".et", ".doc"])
def test_encrypted_ole_refused(tousu, workspace, tmp_path, suffix):
    path = tmp_path / f"locked{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512 + "EncryptionInfo".encode("utf-16-le"))
    code, lines, _ = tousu("process", path)
    assert code == 1 and "文件已加密，请取消密码后另存" in lines[0]["problems"][0]["message"]
    assert archived_files(workspace) == []


def test_oversized_ole_refused_before_parsing(tmp_path):
    path = tmp_path / "big.xls"
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * (9 * 2**20)
    fmt, problem = sniff(path, data)
    assert fmt is None and "过大" in problem.message


def ods_package(content: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", "<manifest/>")        # calamine needs it to see an .ods
        package.writestr("content.xml", '<?xml version="1.0"?><office:document-content '
                         'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                         'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                         'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
                         f'<office:spreadsheet><table:table table:name="表">{content}</table:table>'
                         '</office:spreadsheet></office:body></office:document-content>')
    return out.getvalue()


def test_ods_merges_read_from_content(tmp_path):
    """calamine reports no merged ranges for .ods: they come from number-columns/rows-spanned, counted
    past repeated rows and cells."""
    cell = '<table:table-cell {}office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    path = tmp_path / "hand.ods"
    path.write_bytes(ods_package(
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="3"/>'
        '</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        + cell.format("", "客户姓名")
        + cell.format('table:number-columns-spanned="2" table:number-rows-spanned="2" ', "陈美华")
        + '<table:covered-table-cell/></table:table-row>'))
    grid = reading_of(path).pages[0].grids[0]
    name = grid.at(3, 4)
    assert (name.value, name.where, name.last_row, name.last_col) == ("陈美华", "D3", 4, 5)
    assert grid.at(4, 5) is name and grid.at(3, 3).value == "客户姓名"


def test_ods_with_a_million_filled_cells_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.ods"
    path.write_bytes(ods_package(
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" '
        'office:value="1" table:number-columns-repeated="100"/></table:table-row>'))
    fmt, problem = sniff(path, path.read_bytes())
    assert fmt is None and "单元格过多" in problem.message


def test_xls_with_data_far_outside_the_form_refused_fast(tmp_path):
    """One value in IV65536 of a 6 KB .xls would make calamine build 16 million cells (1 GB)."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("表")
    sheet.write(0, 0, INTAKE.title)
    sheet.write(65535, 255, "远处")
    book.save(str(tmp_path / "far.xls"))
    path = tmp_path / "far.xls"
    started = time.monotonic()
    fmt, problem = sniff(path, path.read_bytes())
    assert fmt is None and "之外还有内容" in problem.message and time.monotonic() - started < 1


def test_ods_with_data_far_outside_the_form_refused(tmp_path):
    path = tmp_path / "far.ods"
    path.write_bytes(ods_package(
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell/></table:table-row>'
        '<table:table-row><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        '</table:table-row>'))
    fmt, problem = sniff(path, path.read_bytes())
    assert fmt is None and "之外还有内容" in problem.message


def test_encrypted_xls_refused_by_its_filepass_record(tmp_path):
    """Excel 97 encryption has no EncryptionInfo stream: a FILEPASS record opens the workbook stream."""
    plain = annex_xls(tmp_path / "plain.xls").read_bytes()
    start = plain.index(b"\x09\x08\x10\x00")         # the first BOF record of the workbook stream
    bof_end = start + 4 + 16
    locked = plain[:bof_end] + b"\x2f\x00\x02\x00\x00\x00" + plain[bof_end + 6:]  # FILEPASS over the next bytes
    fmt, problem = sniff(tmp_path / "locked.xls", locked)
    assert fmt is None and "文件已加密，请取消密码后另存" in problem.message


def test_verify_accepts_the_original_beside_its_twin(tousu, workspace, tmp_path):
    assert tousu("process", annex_xls(tmp_path / "form.xls"))[0] == 0
    code, lines, _ = tousu("verify")
    assert code == 0 and lines[0]["ok"] is True, lines


def test_a_crash_before_the_move_publishes_the_original_too(tmp_path, monkeypatch):
    """Recovery moves everything staged for the form: the twin, its sidecar and the original."""
    ws, clock = Workspace.open(tmp_path / "ws"), Clock(datetime(2026, 11, 21, 9, 0))
    real_publish = archive.publish

    def crash(*args):
        raise KeyboardInterrupt("killed")
    monkeypatch.setattr(archive, "publish", crash)
    with pytest.raises(KeyboardInterrupt):
        process(annex_xls(tmp_path / "a.xls"), ws, clock)
    monkeypatch.setattr(archive, "publish", real_publish)
    assert process(annex_xls(tmp_path / "b.xls", phone=13900000000), ws, clock).number == "TS2026110002"
    assert [p for p in archived_files(ws.root) if NUMBER in p] == [
        f"{ARCHIVED}.xls", f"{ARCHIVED}.xlsx", f"{ARCHIVED}.xlsx.meta.json"]
    assert not any(ws.staging.iterdir())
