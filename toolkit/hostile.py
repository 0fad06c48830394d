"""The hostile-file corpus of issue 11 / SPEC §15, generated in code (never checked in): each file is
a real 附件1 form with one hostile addition, so only the safety pass stands between it and the parsers.
Used by tests/test_hostile.py and by `python -m toolkit.bench --hostile`."""
import json
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl

from .forms.build import build
from .forms.kinds import INTAKE

HUGE_RANGE = "F20:XFD1048576"
SHEET = "xl/worksheets/sheet1.xml"
DOCUMENT = "word/document.xml"
VALUES = {"customer_name": "陈美华", "address": "三明市梅列区列东街28号", "phone": "13805931234",
          "target": "抄表班", "received_at": datetime(2026, 11, 20, 15, 30), "channel": "客服热线",
          "receiver": "林晓燕", "severity": "非重大", "content": "抄表员未入户抄表，疑似估抄。",
          "demand": "重新核实读数。"}


def _form(path: Path) -> Path:
    return build(INTAKE, VALUES, path)


def rewrite(path: Path, edits: dict) -> Path:
    """Replace zip members: {name: new text or bytes, or a function of the old text}."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    for name, edit in edits.items():
        new = edit(members[name].decode("utf-8")) if callable(edit) else edit
        members[name] = new.encode("utf-8") if isinstance(new, str) else new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


def sheet_insert(element: str):
    """An edit that puts `element` where the schema wants it: after sheetData/mergeCells, before
    pageMargins (conditionalFormatting, dataValidations and hyperlinks all stand there in that order)."""
    return lambda xml: xml.replace("<pageMargins", element + "<pageMargins", 1)


def huge_merge(path: Path) -> Path:
    """The 6 KB form whose one extra merged range makes openpyxl create 17 billion cells."""
    merge = f'<mergeCell ref="{HUGE_RANGE}"/>'
    return rewrite(_form(path), {SHEET: lambda xml: re.sub(r"(<mergeCells[^>]*>)", r"\1" + merge, xml, count=1)})


def huge_hyperlink(path: Path) -> Path:
    return rewrite(_form(path), {SHEET: sheet_insert(
        f'<hyperlinks><hyperlink ref="{HUGE_RANGE}" location="Sheet!A1" display="x"/></hyperlinks>')})


def huge_conditional_format(path: Path) -> Path:
    return rewrite(_form(path), {SHEET: sheet_insert(
        f'<conditionalFormatting sqref="{HUGE_RANGE}"><cfRule type="expression" priority="1">'
        f'<formula>TRUE</formula></cfRule></conditionalFormatting>')})


def huge_data_validation(path: Path) -> Path:
    return rewrite(_form(path), {SHEET: sheet_insert(
        f'<dataValidations count="1"><dataValidation type="list" allowBlank="1" sqref="{HUGE_RANGE}">'
        f'<formula1>"满意,不满意"</formula1></dataValidation></dataValidations>')})


def many_elements(path: Path, elements: int = 700_000) -> Path:
    """The form's sheet padded with 700,000 empty elements of random names (so it compresses only a
    few times and stays under the size caps): parsed one by one by any XML parser."""
    names = os.urandom(3 * elements).hex()
    padding = "".join(f"<a{names[6 * i:6 * i + 6]}/>" for i in range(elements))
    return rewrite(_form(path), {SHEET: sheet_insert(padding)})


def _padding_rows(first_row: int, size: int) -> str:
    """Rows of 26 numeric cells from `first_row` on, about `size` bytes of sheet XML."""
    rows, total, r = [], 0, first_row
    while total < size:
        row = f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}"><v>{r * 26 + c}</v></c>'
                                         for c in range(26)) + "</row>"
        rows.append(row)
        total += len(row)
        r += 1
    return "".join(rows)


def seven_big_sheets(path: Path, sheet_bytes: int = 8_000_000) -> Path:
    """Seven sheets of about 8 MB each (under the per-part size cap, compressing only ~10x):
    1.4 million cells that openpyxl would build one by one."""
    book = openpyxl.load_workbook(_form(path))
    for n in range(2, 8):
        book.create_sheet(f"Sheet{n}")
    book.save(path)
    padding = _padding_rows(20, sheet_bytes)
    edits = {SHEET: lambda xml: xml.replace("</sheetData>", padding + "</sheetData>", 1)}
    edits.update({f"xl/worksheets/sheet{n}.xml": lambda xml: re.sub(
        r"<sheetData\s*/>|<sheetData>.*?</sheetData>", "<sheetData>" + padding + "</sheetData>", xml, count=1,
        flags=re.DOTALL) for n in range(2, 8)})
    return rewrite(path, edits)


def sparse_giant(path: Path, size: int = 3 * 2**30) -> Path:
    """A 3 GiB file that starts like a zip and is sparse (takes no disk): must be refused by its size."""
    with open(path, "wb") as fh:
        fh.write(b"PK\x03\x04" + b"\0" * 26)
        fh.truncate(size)
    return path


TABLE_ROW = "<w:tr>" + "<w:tc><w:p/></w:tc>" * 10 + "</w:tr>"


def _docx_insert(element: str):
    return lambda xml: xml.replace("<w:sectPr", element + "<w:sectPr", 1)


def many_tables(path: Path, tables: int = 500) -> Path:
    """The docx form followed by 500 tables of 10 x 10 cells."""
    table = "<w:tbl>" + TABLE_ROW * 10 + "</w:tbl><w:p/>"
    return rewrite(_form(path), {DOCUMENT: _docx_insert(table * tables)})


def nested_tables(path: Path, depth: int = 40) -> Path:
    """The docx form followed by one table nested 40 deep (a table in a cell of a table ...)."""
    nested = "<w:tbl><w:tr><w:tc>" * depth + "<w:p/>" + "</w:tc></w:tr></w:tbl>" * depth
    return rewrite(_form(path), {DOCUMENT: _docx_insert(nested + "<w:p/>")})


def many_rows(path: Path, rows: int = 30_000) -> Path:
    """The docx form followed by one table of 30,000 rows."""
    return rewrite(_form(path), {DOCUMENT: _docx_insert("<w:tbl>" + TABLE_ROW * rows + "</w:tbl><w:p/>")})


def wide_span(path: Path, span: int = 30_000_000) -> Path:
    """The docx form followed by a one-cell table whose cell spans 30 million grid columns."""
    cell = f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr><w:p/></w:tc>'
    return rewrite(_form(path), {DOCUMENT: _docx_insert(f"<w:tbl><w:tr>{cell}</w:tr></w:tbl><w:p/>")})


CORPUS = {  # file name -> writer
    "merge-F20-XFD1048576.xlsx": huge_merge,
    "hyperlink-F20-XFD1048576.xlsx": huge_hyperlink,
    "conditional-format-F20-XFD1048576.xlsx": huge_conditional_format,
    "data-validation-F20-XFD1048576.xlsx": huge_data_validation,
    "seven-sheets-8MB.xlsx": seven_big_sheets,
    "elements-700k.xlsx": many_elements,
    "sparse-3GiB.xlsx": sparse_giant,
    "tables-500.docx": many_tables,
    "tables-nested-40.docx": nested_tables,
    "table-rows-30000.docx": many_rows,
    "cell-span-30M.docx": wide_span,
}


def write_corpus(folder: Path, names=None) -> list[Path]:
    """Write the corpus (or the named part of it) into `folder`; returns the paths in CORPUS order."""
    folder.mkdir(parents=True, exist_ok=True)
    return [CORPUS[name](folder / name) for name in (names or CORPUS)]


@dataclass
class Outcome:
    name: str
    size: int
    exit_code: int | None          # None: killed at the time limit
    seconds: float
    peak_mib: float
    output: str

    @property
    def receipt(self) -> dict:
        """The JSON receipt `tousu check --json` printed ({} when it printed none)."""
        line = next((line for line in self.output.splitlines() if line.startswith("{")), "{}")
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            return {}

    @property
    def refused(self) -> bool:
        return self.exit_code == 1 and self.receipt.get("status") == "refused"

    @property
    def message(self) -> str:
        return "；".join(p["message"] for p in self.receipt.get("problems", []))


def tousu_command() -> list[str]:
    """The installed `tousu` beside this interpreter (a venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).with_name("tousu")
    return [str(beside) if beside.exists() else "tousu"]


# A fresh, small process runs `tousu` and reads its child's peak RSS: ru_maxrss survives fork and
# exec, so measured from a big parent (pytest, the bench) it would report the parent's size.
MEASURE = """
import json, resource, subprocess, sys, time
timeout, cap = float(sys.argv[1]), int(sys.argv[2])
started = time.monotonic()
child = subprocess.Popen(sys.argv[3:], stderr=subprocess.STDOUT)
resource.prlimit(child.pid, resource.RLIMIT_AS, (cap, cap))
try:
    code = child.wait(timeout)
except subprocess.TimeoutExpired:
    child.kill()
    child.wait()
    code = None
print(json.dumps({"exit": code, "seconds": time.monotonic() - started,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}), file=sys.stderr)
"""


def measure(path: Path, timeout: float = 30.0, memory_cap: int = 2 * 2**30) -> Outcome:
    """Run `tousu check FILE --json` in a child process (address space capped as a safety net, so a
    regression fails with MemoryError instead of taking the machine) and return its exit code
    (None: killed at `timeout`), wall time and peak RSS."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(timeout), str(memory_cap), *tousu_command(),
                           "check", str(path), "--json"], check=True, capture_output=True, timeout=timeout + 30)
    figures = json.loads(done.stderr.decode().strip().splitlines()[-1])
    return Outcome(path.name, path.stat().st_size, figures["exit"], figures["seconds"], figures["peak_kib"] / 1024,
                   done.stdout.decode("utf-8", "replace"))
