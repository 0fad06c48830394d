"""Decide, before any parser sees the bytes, whether a file may be opened: its size on disk (before
reading it), its format, a zip bomb, XML entity tricks, an encrypted (OLE) container, a truncated
archive, an oversized legacy (OLE) file, and — in one streaming pass over every XML part — structures
that would make the parsers build millions of objects (huge merged ranges, too many cells, sheets or Word
tables). The work is bounded by the limits below, whatever the file holds. Every refusal says how to fix it."""
import io
import re
import shutil
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import olefile
from openpyxl.utils.cell import column_index_from_string

from ..problems import Problem, error

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
ACCEPTED_SUFFIXES = {".xlsx", ".xlsm", ".docx", ".ods"}
OLE_SUFFIXES = {".xls": ("xls", "Excel"), ".et": ("xls", "WPS 表格"),   # read by python-calamine
                ".doc": ("doc", "Word"), ".wps": ("doc", "WPS 文字")}   # converted by LibreOffice
UNSUPPORTED_SUFFIXES = {".odt": "OpenDocument 文字"}
MAIN_PARTS = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx"}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ODS_CONTENT = "content.xml"
MAX_OLE_BYTES = 8 * 1024 * 1024          # a legacy form is tens of KB; calamine/LibreOffice read it whole
MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 64 * 1024 * 1024       # all parts, uncompressed
MAX_PART_BYTES = 8 * 1024 * 1024         # one sheet/document part: a form is a few hundred cells
MAX_RATIO = 200                          # uncompressed/compressed, for parts over 1 MiB
FORBIDDEN_XML = (b"<!DOCTYPE", b"<!ENTITY")
ENCRYPTED = "文件已加密，请取消密码后另存为 .xlsx/.docx 再放入。"
CHUNK = 1 << 16
MAX_FILE_BYTES = 20 * 1024 * 1024        # on disk, checked by stat before a byte is read
MAX_MARKUP = 300_000                     # '<' in all the XML of the package (~2 per element)
MAX_SHEETS = 50
MAX_CELLS = 20_000                       # <c> in one worksheet, <w:tc> in the Word body
MAX_REF_ROW, MAX_REF_COL = 10_000, 200   # how far a range may reach (the reader reads 300 x 40)
MAX_COVERED = 100_000                    # cells merged (or hyperlinked) in one worksheet, together
SHEET_ROWS, SHEET_COLS = 1_048_576, 16_384
MAX_TABLES, MAX_TABLE_DEPTH, MAX_TABLE_ROWS = 50, 3, 2_000
SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml")
DOCUMENT_PART = "word/document.xml"
REF = re.compile(r"([A-Za-z]{1,3})?(\d{1,7})?")
DTD_MESSAGE = ("文件含有不允许的 XML 实体声明（DOCTYPE/ENTITY），疑似恶意文件，已拒收。"
               "请用 Excel/Word 重新另存后放入。")
RANGE_RULES = {  # element -> (attribute, refused only when past rows and columns at once, message)
    "mergeCell": ("ref", False,
                  "工作表含有超大范围的合并单元格（{ref}），请取消多余的合并、删除多余的格式后另存再放入。"),
    "hyperlink": ("ref", False, "工作表含有覆盖超大范围的超链接（{ref}），请删除该超链接后另存再放入。"),
    "conditionalFormatting": ("sqref", True, ("工作表含有覆盖整张表的条件格式（{ref}），"
                                              "请在「条件格式→管理规则」中删除或缩小其范围后另存再放入。")),
    "dataValidation": ("sqref", True, ("工作表含有覆盖整张表的数据验证（{ref}），"
                                       "请在「数据验证」中删除或缩小其范围后另存再放入。")),
}


def refuse(message: str) -> Problem:
    """A refusal of the file as a whole (no field, no cell)."""
    return error("文件", "", message)


def check_size(path: Path) -> Problem | None:
    """Refuse by `stat` alone, before a byte is read: a form is a few KB, a 3 GB (or sparse) file
    must never be read into memory."""
    size = path.stat().st_size
    if size <= MAX_FILE_BYTES:
        return None
    return refuse(f"文件过大（{size / 2**20:,.1f} MB，上限 {MAX_FILE_BYTES // 2**20} MB），不是一张表单。"
                  "请删除插入的图片或多余的工作表，只保留表单后另存再放入。")


def _save_as_hint(suffix: str) -> str:
    target = ".docx" if suffix in (".doc", ".wps", ".odt", ".docx") else ".xlsx"
    app = "Word/WPS" if target == ".docx" else "Excel/WPS"
    return f"请在 {app} 中另存为 {target} 后重新放入"


def sniff(path: Path, data: bytes) -> tuple[str | None, Problem | None]:
    """('xlsx'|'docx'|'xls'|'ods'|'doc', None) when the bytes may be parsed (see grid.load), else
    (None, problem). An .xls/.et/.doc/.wps must be an OLE container, an .ods a zip."""
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        return None, refuse(f"不支持{UNSUPPORTED_SUFFIXES[suffix]}文件（{suffix}），{_save_as_hint(suffix)}。")
    if suffix not in ACCEPTED_SUFFIXES and suffix not in OLE_SUFFIXES:
        return None, refuse(f"不支持的文件类型「{suffix or '无扩展名'}」，只接受 .xlsx、.xlsm、.docx 表单"
                            "（以及旧版的 .xls、.et、.ods、.doc、.wps）。")
    if not data:
        return None, refuse("文件是空的（0 字节），请重新保存表单后放入。")
    if data.startswith(OLE_MAGIC):
        return _check_ole(data, suffix)
    if suffix in OLE_SUFFIXES:
        return None, refuse(f"文件不是有效的{OLE_SUFFIXES[suffix][1]}文件（内容已损坏，或是新版 WPS 专用格式），"
                            f"{_save_as_hint(suffix)}。")
    if not data.startswith(ZIP_MAGIC):
        return None, refuse(f"文件不是有效的 Office 文档（内容已损坏或不是表格/文档），{_save_as_hint(suffix)}。")
    return _check_zip(data, suffix)


def _check_ole(data: bytes, suffix: str) -> tuple[str | None, Problem | None]:
    """A legacy (OLE/BIFF) file: refused when encrypted, oversized, named as a new format, or (.doc/.wps)
    when LibreOffice is not installed to convert it."""
    if ENCRYPTION_STREAM in data:
        return None, refuse(ENCRYPTED)
    if suffix not in OLE_SUFFIXES:
        return None, refuse(f"文件实为旧版 Office 格式（.xls/.doc 改了扩展名），{_save_as_hint(suffix)}。")
    fmt, name = OLE_SUFFIXES[suffix]
    if len(data) > MAX_OLE_BYTES:
        return None, refuse(f"旧版{name}文件过大（超过 {MAX_OLE_BYTES // 2**20} MB），不是一张表单。"
                            f"请只保留表单，{_save_as_hint(suffix)}。")
    if fmt == "doc" and shutil.which("soffice") is None:
        return None, refuse(f"本机未安装 LibreOffice，无法读取旧版{name}文件（{suffix}），{_save_as_hint(suffix)}。")
    if fmt == "xls":
        try:
            _check_biff(data)
        except Hostile as hostile:
            return None, refuse(str(hostile))
    return fmt, None


def _check_zip(data: bytes, suffix: str) -> tuple[str | None, Problem | None]:
    damaged = refuse("文件不完整或已损坏（可能未复制完成），请重新保存或重新复制后放入。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        return None, damaged
    if len(members) > MAX_MEMBERS:
        return None, refuse("文件内部结构异常（部件过多），疑似恶意文件，已拒收。")
    total = sum(m.file_size for m in members)
    if total > MAX_TOTAL_BYTES:
        return None, refuse("文件解压后过大，疑似压缩炸弹或并非表单，已拒收。请只提交单张表单。")
    for member in members:
        if member.flag_bits & 0x1:
            return None, refuse(ENCRYPTED)
        if member.file_size > MAX_PART_BYTES or (
                member.file_size > (1 << 20) and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
            return None, refuse("表格或文档内容过大（例如工作表有上百万行），不是一张表单。"
                                "请删除多余的行或工作表，只保留表单后另存再放入。")
    names = archive.namelist()
    if suffix == ".ods":        # an OpenDocument spreadsheet, and only that, under its own name
        ods = ODS_CONTENT in names and "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE
        kind = "ods" if ods else None
    else:
        kind = next((k for part, k in MAIN_PARTS.items() if part in names), None)
    if kind is None:
        return None, refuse(f"文件不是 Excel 工作簿、Word 文档或 OpenDocument 表格，{_save_as_hint(suffix)}。")
    if sum(1 for m in members if SHEET_PART.fullmatch(m.filename)) > MAX_SHEETS:
        return None, refuse(f"工作簿含有过多的工作表（超过 {MAX_SHEETS} 张），不是一张表单。"
                            "请只保留表单所在的工作表后另存再放入。")
    budget = Budget()
    try:
        for member in members:
            _scan_member(archive, member, budget)
    except Hostile as hostile:
        return None, refuse(str(hostile))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, expat.ExpatError):
        return None, damaged
    return kind, None


class Hostile(Exception):
    """Raised inside the streaming pass; the message is the clerk's refusal text."""


@dataclass
class Budget:
    """What the whole package may still hold: markup ('<', about two per element) across its XML."""
    markup: int = MAX_MARKUP

    def take(self, chunk: bytes) -> None:
        self.markup -= chunk.count(b"<")
        if self.markup < 0:
            raise Hostile("文件内部结构过于庞大（XML 元素过多），不是一张表单，已拒收。"
                          "请只保留表单所在的区域后另存再放入。")


def _scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: Budget) -> None:
    """Decompress the part as a stream (bounded by its declared size, CRC checked). XML parts are
    scanned for DTD markers and counted against the markup budget (cheap byte operations); the
    worksheets and the Word body also go through expat for the structure rules of Inspector."""
    name = member.filename
    is_xml = name.endswith((".xml", ".rels", ".vml"))
    inspector = Inspector(sheet=True) if SHEET_PART.fullmatch(name) else (
        Inspector(document=True) if name == DOCUMENT_PART else (Inspector(ods=True) if name == ODS_CONTENT else None))
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            if is_xml:
                window = tail + chunk
                if any(marker in window for marker in FORBIDDEN_XML):
                    raise Hostile(DTD_MESSAGE)
                tail = window[-16:]
                budget.take(chunk)
            if inspector:
                inspector.parser.Parse(chunk, False)
    if inspector:
        inspector.parser.Parse(b"", True)


class Inspector:
    """An incremental (expat) pass over a worksheet or the Word body that refuses, as soon as it is
    seen, what would make openpyxl or python-docx build millions of objects. Worksheets: cells beyond
    MAX_CELLS; merged ranges and hyperlinks reaching past row MAX_REF_ROW or column MAX_REF_COL or
    covering more than MAX_COVERED cells together (openpyxl makes every covered cell); conditional
    formats and data validations over the whole sheet (past both limits at once: a whole column or a
    whole row is what Excel writes for a dropdown and stays allowed). The declared <dimension> is not
    trusted either way: the cells are counted instead. The Word body: too many tables, rows or cells,
    or tables nested too deep. An OpenDocument spreadsheet: filled cells repeated (number-rows/columns-
    repeated) beyond MAX_CELLS together, as calamine makes each one (empty repeats are how LibreOffice
    saves the rest of the sheet and stay allowed)."""

    def __init__(self, sheet: bool = False, document: bool = False, ods: bool = False):
        self.sheet, self.document, self.ods = sheet, document, ods
        self.cells = self.tables = self.rows = self.depth = 0
        self.row = self.col = 0                 # .ods: position of the next row and cell
        self.row_repeat = 1
        self.covered: dict[str, int] = {}                 # element -> cells covered by its ranges so far
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        name = tag.rpartition(":")[2]
        if self.sheet:
            self._sheet_element(name, attributes)
        elif self.ods:
            self._ods_element(name, attributes)
        else:
            self._document_element(name, attributes)

    def _end(self, tag: str) -> None:
        name = tag.rpartition(":")[2]
        if self.document and name == "tbl":
            self.depth -= 1
        elif self.ods and name == "table-row":
            self.row += self.row_repeat

    def _sheet_element(self, name: str, attributes: dict[str, str]) -> None:
        if name == "c":
            self.cells += 1
            if self.cells > MAX_CELLS:
                raise Hostile(f"工作表的单元格过多（超过 {MAX_CELLS} 个），不是一张表单。"
                              "请删除表单以外多余的行、列或工作表后另存再放入。")
        elif name in RANGE_RULES:
            attribute, whole_sheet_only, message = RANGE_RULES[name]
            for ref in attributes.get(attribute, "").split():
                bounds = _bounds(ref)
                if bounds and self._too_large(name, bounds, whole_sheet_only):
                    raise Hostile(message.format(ref=ref))

    def _too_large(self, name: str, bounds: tuple[int, int, int, int], whole_sheet_only: bool) -> bool:
        """Past the rows or the columns a form may use (past both, for `whole_sheet_only`); merges
        and hyperlinks also by the cells they cover together, as openpyxl makes each one."""
        r1, c1, r2, c2 = bounds
        beyond_rows, beyond_cols = r2 > MAX_REF_ROW, c2 > MAX_REF_COL
        if whole_sheet_only:
            return beyond_rows and beyond_cols
        self.covered[name] = self.covered.get(name, 0) + max(r2 - r1 + 1, 1) * max(c2 - c1 + 1, 1)
        return beyond_rows or beyond_cols or self.covered[name] > MAX_COVERED

    def _ods_element(self, name: str, attributes: dict[str, str]) -> None:
        local = {key.rpartition(":")[2]: value for key, value in attributes.items()}

        def repeat(key: str) -> int:
            return int(local[key]) if local.get(key, "").isdigit() else 1

        if name == "table":
            self.cells = self.row = 0
        elif name == "table-row":
            self.row_repeat, self.col = repeat("number-rows-repeated"), 0
        elif name in ("table-cell", "covered-table-cell"):
            columns = repeat("number-columns-repeated")
            if "value-type" in local:
                self.cells += self.row_repeat * columns
                if self.cells > MAX_CELLS:
                    raise Hostile(f"工作表的单元格过多（超过 {MAX_CELLS} 个），不是一张表单。"
                                  "请删除表单以外多余的行、列或工作表后另存再放入。")
                _within_form(self.row + self.row_repeat, self.col + columns)
            self.col += columns

    def _document_element(self, name: str, attributes: dict[str, str]) -> None:
        if name == "tbl":
            self.tables += 1
            self.depth += 1
            if self.tables > MAX_TABLES:
                raise Hostile(f"文档含有过多的表格（超过 {MAX_TABLES} 个），不是一张表单。"
                              "请只保留表单的表格后另存再放入。")
            if self.depth > MAX_TABLE_DEPTH:
                raise Hostile(f"文档中的表格嵌套过深（超过 {MAX_TABLE_DEPTH} 层），"
                              "请取消表格中的嵌套表格，只保留表单的表格后另存再放入。")
        elif name == "tr":
            self.rows += 1
            if self.rows > MAX_TABLE_ROWS:
                raise Hostile(f"文档表格的行数过多（超过 {MAX_TABLE_ROWS} 行），不是一张表单。"
                              "请删除多余的表格行后另存再放入。")
        elif name in ("tc", "gridSpan"):        # python-docx repeats a cell once per grid column it spans
            self.cells += 1 if name == "tc" else _span(attributes) - 1
            if self.cells > MAX_CELLS:
                raise Hostile(f"文档表格的单元格过多（超过 {MAX_CELLS} 个），不是一张表单。"
                              "请删除多余的表格后另存再放入。")


def _within_form(rows: int, cols: int) -> None:
    """Data past MAX_REF_ROW x MAX_REF_COL: calamine makes a cell of every position up to the last one
    holding data (a 6 KB .xls with one value in IV65536 takes 1 GB)."""
    if rows > MAX_REF_ROW or cols > MAX_REF_COL:
        raise Hostile(f"工作表在第 {MAX_REF_ROW} 行或第 {MAX_REF_COL} 列之外还有内容，不是一张表单。"
                      "请删除表单以外多余的行、列后另存再放入。")


BIFF_CELLS = {0x0006, 0x00FD, 0x0203, 0x0204, 0x027E, 0x0201, 0x0205, 0x00D6}  # FORMULA LABELSST NUMBER ...
BIFF_CELL_RUNS = {0x00BD, 0x00BE}                                               # MULRK, MULBLANK
BIFF_BOF, BIFF_FILEPASS = 0x0809, 0x002F
BIFF_STREAMS = ("Workbook", "Book")


def _check_biff(data: bytes) -> None:
    """An Excel 97-2003 (or BIFF-compatible WPS) workbook: refused when encrypted (FILEPASS), when it
    has no workbook stream, or when a sheet holds data past the form area or too many cells. One pass
    over the record headers of the workbook stream."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            stream = next((name for name in BIFF_STREAMS if ole.exists(name)), None)
            if stream is None:
                raise Hostile("文件不是 Excel 工作簿（旧版 Office 文件中没有工作表），"
                              "请在 Excel/WPS 中另存为 .xlsx 后重新放入。")
            book = ole.openstream(stream).read()
    except Hostile:
        raise
    except Exception as exc:    # olefile on broken or hostile bytes: any failure is a refusal
        raise Hostile("文件不完整或已损坏，请在 Excel/WPS 中打开确认后另存为 .xlsx 再放入。") from exc
    offset, cells = 0, 0
    while offset + 4 <= len(book):
        kind, size = struct.unpack_from("<HH", book, offset)
        body = book[offset + 4: offset + 4 + size]
        offset += 4 + size
        if kind == BIFF_FILEPASS:
            raise Hostile(ENCRYPTED)
        if kind == BIFF_BOF:
            cells = 0
        elif (kind in BIFF_CELLS or kind in BIFF_CELL_RUNS) and len(body) >= 6:
            row, first = struct.unpack_from("<HH", body)
            last = struct.unpack_from("<H", body, len(body) - 2)[0] if kind in BIFF_CELL_RUNS else first
            cells += max(last - first + 1, 1)
            if cells > MAX_CELLS:
                raise Hostile(f"工作表的单元格过多（超过 {MAX_CELLS} 个），不是一张表单。"
                              "请删除表单以外多余的行、列或工作表后另存再放入。")
            _within_form(row + 1, last + 1)


def _span(attributes: dict[str, str]) -> int:
    """w:gridSpan's w:val (any prefix); 1 when it is not a number."""
    value = next((v for k, v in attributes.items() if k.rpartition(":")[2] == "val"), "1")
    return int(value) if value.isdigit() else 1


def _bounds(ref: str) -> tuple[int, int, int, int] | None:
    """(first row, first col, last row, last col) of A1, F20:XFD1048576, D:D or 3:5; an endpoint
    without a row reaches the last row, one without a column the last column. None: unparseable,
    left to the parser."""
    ends = []
    for end in ref.replace("$", "").split(":", 1):
        match = REF.fullmatch(end)
        if match is None or not end:
            return None
        letters, digits = match.groups()
        ends.append((int(digits) if digits else None, column_index_from_string(letters) if letters else None))
    (r1, c1), (r2, c2) = ends[0], ends[-1]
    return r1 or 1, c1 or 1, r2 or SHEET_ROWS, c2 or SHEET_COLS
