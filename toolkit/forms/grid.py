"""Sheets and Word tables as grids of located cells. A merged range is one cell (every position in
it maps to the same Cell); each cell knows how to name itself to a clerk.

Which route reads what, and why (safety.sniff has bounded every file before any of these runs):
- .xlsx/.xlsm: python-calamine for the values, merged ranges and which sheets are visible worksheets
  (about 10x faster than openpyxl's full load, which builds every style object of the book). What
  calamine does not give is read from the package's own XML, and only where reading needs it:
  the active tab (workbook.xml's activeTab); the number format of a number cell (a phone typed as a
  number gets its dropped leading 0 back from a "00000000000" format) and the font of a text cell when
  the book uses a symbol font (check boxes typed in Wingdings, "þ" = ☑), both through the cell's style
  id in the sheet XML and styles.xml's cellXfs; and a formula never calculated (no cached value, as
  openpyxl writes them) as its formula text and an error cell as its text ("#N/A"), as openpyxl would
  read them (calamine reads both as empty) — a calculated formula reads as its cached value, what the
  clerk sees. openpyxl is loaded only to re-save a workbook whole when the
  number cannot be patched into the package (patch.CannotPatch: a formula in the slot, zip64, …).
- .xls, BIFF-compatible .et and .ods: python-calamine (values and merges; .ods merges from
  content.xml, which calamine does not report). They lose what the .xlsx route reads from the XML: a
  symbol-font tick reads as its raw letter, a phone stored as a number is only repaired by its length
  (values.normalise_phone), a formula by its cached value; the visible sheets in workbook order.
- .docx: python-docx (tables, body paragraphs, w:sym check boxes); .doc/.wps converted to .docx by
  LibreOffice first.

A legacy file cannot carry the number: it is kept as received (Source.original) and the number goes
into a numbered twin (.xlsx written with openpyxl from the grid, or the converted .docx)."""
import html
import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, NamedTuple, Protocol, TypedDict
from xml.parsers import expat

import docx
import openpyxl
from docx.document import Document as WordDocument
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.table import Table
from docx.table import _Cell as DocxCell
from docx.text.paragraph import Paragraph
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles.numbers import BUILTIN_FORMATS
from openpyxl.utils import column_index_from_string, get_column_letter
from python_calamine import (
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from ..errors import ToolkitError
from .patch import WORKBOOK, CannotPatch, SheetPlace, sheet_part, word_place
from .safety import ENCRYPTED

MAX_ROWS = 300   # a form is a page or two; anything below is not read
MAX_COLS = 40
HEADING_ROWS = 6  # a title stands in the first rows (docx: the paragraphs before the first table)
# Symbol fonts Word/WPS/LibreOffice use for check boxes, mapped to the marks the value parser knows.
SYMBOL_FONT_MARKS = {
    "wingdings": {"\uf0fe": "☑", "\uf0fd": "☒", "\uf0fc": "√", "\uf0fb": "×", "\uf0a8": "□", "\uf06f": "□",
                  "þ": "☑", "ý": "☒", "ü": "√", "û": "×", "¨": "□", "o": "□", "x": "☒"},
    "wingdings2": {"\uf052": "☑", "\uf053": "☒", "\uf050": "√", "\uf04f": "×", "\uf0a3": "□", "\uf02a": "□",
                   "R": "☑", "S": "☒", "P": "√", "O": "×", "£": "□", "*": "□"},
}


SYMBOL_FONT_STEM = os.path.commonprefix(list(SYMBOL_FONT_MARKS)).encode()     # b"wingdings"


def _symbol_marks(font_name: str | None) -> dict[str, str]:
    key = (font_name or "").lower().replace(" ", "")
    return SYMBOL_FONT_MARKS.get(key, {})


@dataclass(eq=False)
class Cell:
    row: int                 # top row of the (merged) cell, 1-based within its grid
    col: int                 # left column, 1-based
    value: object            # as stored: str, int, float, datetime, or None
    where: str               # how a clerk finds it: "D5", "Sheet2!D5", "表1 第3行第2列"
    last_row: int = 0
    last_col: int = 0
    number_format: str = "General"
    handle: object = None    # the openpyxl cell or python-docx cell, for writing back
    locator: object = None   # where it stands in the package (patch.SheetPlace / WordPlace), for patching

    def __post_init__(self) -> None:
        self.last_row = self.last_row or self.row
        self.last_col = self.last_col or self.col

    @property
    def text(self) -> str:
        return "" if self.value is None else str(self.value).strip()


@dataclass
class Grid:
    name: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)   # (row, col) -> Cell, merged positions share one
    max_row: int = 0
    max_col: int = 0
    _distinct: tuple[int, list[Cell]] | None = field(default=None, repr=False, compare=False)

    def at(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def distinct(self) -> Iterator[Cell]:
        """Each cell once (a merged range by its top-left), in reading order; listed again only when
        cells were added since."""
        if self._distinct is None or self._distinct[0] != len(self.cells):
            seen: dict[int, Cell] = {}
            for key in sorted(self.cells):
                seen.setdefault(id(self.cells[key]), self.cells[key])
            self._distinct = (len(self.cells), list(seen.values()))
        return iter(self._distinct[1])


@dataclass
class Page:
    """What one form may stand on: a worksheet, or a whole Word document (its body and tables)."""
    grids: list[Grid]
    headings: list[str]         # texts where a title may stand, in reading order


@dataclass(frozen=True)
class Original:
    """A file that cannot carry the number (.xls, .et, .ods, .doc, .wps): archived byte for byte
    beside its numbered twin, which is what Source.save writes."""
    suffix: str                 # ".xls" as received
    data: bytes
    twin_suffix: str            # ".xlsx" or ".docx"


class Savable(Protocol):
    """What a Source writes back through: the openpyxl book, the python-docx document, a TwinBook."""
    def save(self, target: IO[bytes]) -> None: ...


@dataclass
class Source:
    """A parsed file: its pages (the active sheet first), the document object for writing back, the
    bytes it was read from (the number is patched into them), and for a legacy file the original."""
    format: str                 # "xlsx", "docx", "xls" (also .et) or "ods"
    pages: list[Page]
    document: Savable
    data: bytes
    original: Original | None = None

    def save(self, target: IO[bytes]) -> None:
        self.document.save(target)

    def archived_suffix(self, received: str) -> str:
        """The suffix of the numbered copy: the twin's for a kept original, else the file's own."""
        return self.original.twin_suffix if self.original else received.lower()


class CannotOpen(ToolkitError):
    """A file that passed the safety checks but cannot be read; the message tells the clerk what to do."""


def load(fmt: str, data: bytes, suffix: str) -> Source:
    """Parse bytes that safety.sniff() classed as `fmt`."""
    if fmt == "xlsx":
        return load_xlsx(data, keep_vba=suffix.lower() == ".xlsm")
    if fmt == "docx":
        return load_docx(data)
    if fmt == "doc":
        source = load_docx(convert_to_docx(data, suffix))
        source.original = Original(suffix.lower(), data, ".docx")
        return source
    return load_calamine(data, fmt, suffix)


# ---------------------------------------------------------------- xlsx, xlsm (python-calamine + the package's XML)
ATTRIBUTES = rb"""(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*"""
PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
SHEET_ELEMENT = re.compile(rb"<" + PREFIX + rb"(?:row\b(?P<row>" + ATTRIBUTES + rb")\s*/?>|c\b(?P<c>" + ATTRIBUTES
                           + rb")\s*(?:/>|>(?P<inner>.*?)</" + PREFIX + rb"c\s*>))", re.DOTALL)
FORMULA = re.compile(rb"<" + PREFIX + rb"f[\s>/]")
ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")
VALUE_TEXT = re.compile(rb"<" + PREFIX + rb"v\b[^>]*>([^<]+)</")
FORMULA_TEXT = re.compile(rb"<" + PREFIX + rb"f\b[^>]*>([^<]+)</", re.DOTALL)
ATTRIBUTE = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def load_xlsx(data: bytes, keep_vba: bool = False) -> Source:
    """The visible worksheets, the active one first. Values and merged ranges come from calamine; the
    style of the few cells whose reading depends on it (a number: its format; a text in a workbook that
    uses a symbol font: its font) from the package's own XML, read only when such a cell is there."""
    book = _open_calamine(data)
    package = XlsxPackage(data)
    sheets = book.sheets_metadata
    names = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet]
    active = package.active_index()
    first = sheets[active].name if active < len(sheets) and sheets[active].name in names else None
    ordered = [first] + [n for n in names if n != first] if first else names
    document = XlsxBook(data, keep_vba)
    grids = []
    for index, name in enumerate(ordered):
        sheet = book.get_sheet_by_name(name)
        grid = _value_grid(name, sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS),
                           sheet.merged_cell_ranges or [], "" if index == 0 else f"{name}!", document)
        package.complete(grid)
        grids.append(grid)
    return Source("xlsx", [_sheet_page(grid) for grid in grids], document, data)


def _sheet_page(grid: Grid) -> Page:
    return Page([grid], [c.text for c in grid.distinct() if c.row <= HEADING_ROWS and c.text])


@dataclass
class _Styles:
    """styles.xml as far as reading needs it: each cell style (xf) as (number format code, font name)."""
    xfs: list[tuple[str, str]]

    @property
    def symbol_fonts(self) -> bool:
        return any(_symbol_marks(font) for _, font in self.xfs)


def _read_styles(xml: bytes) -> _Styles:
    formats: dict[int, str] = dict(BUILTIN_FORMATS)
    fonts: list[str] = []
    xfs: list[tuple[int, int]] = []
    within: list[str] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        name = tag.rpartition(" ")[2]
        parent = within[-1] if within else ""
        if name == "numFmt" and parent == "numFmts":
            formats[int(attributes.get("numFmtId", -1))] = attributes.get("formatCode", "General")
        elif name == "font" and parent == "fonts":
            fonts.append("")
        elif name == "name" and parent == "font" and len(within) > 1 and within[-2] == "fonts" and fonts:
            fonts[-1] = attributes.get("val", "")
        elif name == "xf" and parent == "cellXfs":
            xfs.append((int(attributes.get("numFmtId", 0)), int(attributes.get("fontId", 0))))
        within.append(name)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: within.pop()
    parser.Parse(xml, True)
    return _Styles([(formats.get(number, "General"), fonts[font] if 0 <= font < len(fonts) else "")
                    for number, font in xfs])


class XlsxPackage:
    """The few things of an .xlsx read from its XML rather than through calamine: the active tab, and
    the style ids of cells (only for a sheet holding a cell whose reading depends on its style)."""

    def __init__(self, data: bytes):
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self._styles: _Styles | None = None

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except KeyError:
            return b""

    def active_index(self) -> int:
        """<workbookView activeTab="n">: the index among all sheets (chart sheets included), 0 when absent."""
        found = re.search(rb"""<(?:\w+:)?workbookView\b[^>]*\bactiveTab\s*=\s*["'](\d+)["']""",
                          self.read(WORKBOOK))
        return int(found.group(1)) if found else 0

    @property
    def styles(self) -> _Styles:
        if self._styles is None:
            xml = self.read("xl/styles.xml")
            self._styles = _read_styles(xml) if xml else _Styles([])
        return self._styles

    @property
    def symbol_fonts(self) -> bool:
        """Whether a cell style uses a symbol font (styles.xml names none in the common case: not parsed)."""
        xml = self.read("xl/styles.xml")
        return SYMBOL_FONT_STEM in xml.lower() and self.styles.symbol_fonts

    def complete(self, grid: Grid) -> None:
        """What calamine does not give, for the cells that need it: a number cell's format (a phone typed
        as a number gets its leading 0 back from "00000000000"); a text cell in a symbol font read as the
        check marks it shows (Wingdings "þ" = ☑); a formula never calculated (no cached value, as
        openpyxl writes them) read as its formula text, "=…", as the clerk typed it."""
        symbols = None
        needing = []
        for cell in grid.distinct():
            if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                needing.append(cell)
            elif isinstance(cell.value, str):
                if symbols is None:
                    symbols = self.symbol_fonts
                if symbols:
                    needing.append(cell)
        xml = self._sheet_xml(grid.name)
        unread = FORMULA.search(xml) is not None or ERROR_TYPE.search(xml) is not None
        if not needing and not unread:
            return
        cells = dict(self._cells(xml))
        xfs = self.styles.xfs
        for cell in needing:
            index = cells[(cell.row, cell.col)].style if (cell.row, cell.col) in cells else 0
            number_format, font = xfs[index] if index < len(xfs) else ("General", "")
            if isinstance(cell.value, str):
                marks = _symbol_marks(font)
                cell.value = "".join(marks.get(ch, ch) for ch in cell.value)
            else:
                cell.number_format = number_format
        for (row, col), found in cells.items() if unread else ():
            target = grid.at(row, col)
            if found.text and target is not None and target.value is None and (target.row, target.col) == (row, col):
                target.value = found.text

    def _sheet_xml(self, title: str) -> bytes:
        try:
            return self.read(sheet_part(self.read, title))
        except CannotPatch:
            return b""

    @staticmethod
    def _cells(xml: bytes) -> Iterator[tuple[tuple[int, int], "_XmlCell"]]:
        """The sheet's cells within the rows and columns a form may use, by (row, col) (a row or cell
        without its reference counts on from the previous one)."""
        row = col = 0
        for element in SHEET_ELEMENT.finditer(xml):
            if element.group("row") is not None:
                reference = _attributes(element.group("row")).get(b"r", b"")
                row, col = int(reference) if reference.isdigit() else row + 1, 0
                if row > MAX_ROWS:
                    return
                continue
            attributes = _attributes(element.group("c"))
            ref = attributes.get(b"r")
            col = column_index_from_string(ref.rstrip(b"0123456789").decode()) if ref else col + 1
            if col > MAX_COLS:
                continue
            style = attributes.get(b"s", b"0")
            inner = element.group("inner") or b""
            formula = FORMULA_TEXT.search(inner)
            error = VALUE_TEXT.search(inner) if attributes.get(b"t") == b"e" else None
            text = "=" + formula.group(1).decode() if formula else error.group(1).decode() if error else None
            yield (row, col), _XmlCell(int(style) if style.isdigit() else 0, html.unescape(text) if text else None)


class _XmlCell(NamedTuple):
    style: int              # index into styles.xml's cellXfs
    text: str | None        # what calamine reads as empty: "=formula" never calculated, an error ("#N/A")


def _attributes(text: bytes) -> dict[bytes, bytes]:
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in ATTRIBUTE.finditer(text)}


@dataclass
class XlsxBook:
    """An .xlsx/.xlsm saved whole through openpyxl, only when the number cannot be patched into the
    package (patch.CannotPatch): loaded then, with the values written in."""
    data: bytes
    keep_vba: bool
    written: dict[SheetPlace, str] = field(default_factory=dict)

    def save(self, target: IO[bytes]) -> None:
        book = openpyxl.load_workbook(io.BytesIO(self.data), keep_vba=self.keep_vba, rich_text=False)
        for place, text in self.written.items():
            cell = book[place.sheet].cell(place.row, place.col)
            cell.value = text
            cell.data_type = "s"
        book.save(target)


# ---------------------------------------------------------------- xls, et, ods (python-calamine)
class TwinCell:
    """The handle of a cell read by calamine: a value written into it goes to the numbered twin."""


TWIN_CELL = TwinCell()
Merge = tuple[tuple[int, int], tuple[int, int]]     # ((row, col), (last row, last col)), 0-based


def _open_calamine(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise CannotOpen(ENCRYPTED) from None


def load_calamine(data: bytes, fmt: str, suffix: str) -> Source:
    """The visible worksheets in workbook order (a legacy book's active tab is not read), first unprefixed."""
    book = _open_calamine(data)
    ods_merges = _ods_merges(data) if fmt == "ods" else {}
    names = [m.name for m in book.sheets_metadata
             if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet]
    grids = []
    for index, name in enumerate(names):
        sheet = book.get_sheet_by_name(name)
        merges = ods_merges.get(name, []) if fmt == "ods" else sheet.merged_cell_ranges or []
        grids.append(_value_grid(name, sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS), merges,
                                 "" if index == 0 else f"{name}!", TWIN_CELL))
    return Source(fmt, [_sheet_page(grid) for grid in grids], TwinBook(grids), data,
                  Original(suffix.lower(), data, ".xlsx"))


def _value_grid(name: str, rows: Sequence[Sequence[object]], merges: list[Merge], prefix: str,
                handle: object) -> Grid:
    """A grid from calamine's rows (from A1) and merged ranges ((row, col), (row, col)), 0-based; each
    cell written back through `handle` (an XlsxBook, or the twin of a legacy book), at its SheetPlace."""
    def where(r: int, c: int) -> str:
        return f"{prefix}{get_column_letter(c)}{r}"

    def new(r: int, c: int, last_row: int = 0, last_col: int = 0) -> Cell:
        return Cell(r, c, value(r, c), where(r, c), last_row, last_col, handle=handle, locator=SheetPlace(name, r, c))

    def value(r: int, c: int) -> object:
        return _plain(rows[r - 1][c - 1]) if r <= len(rows) and c <= len(rows[r - 1]) else None

    grid = Grid(name, max_row=min(len(rows), MAX_ROWS), max_col=min(max(map(len, rows), default=0), MAX_COLS))
    for (r0, c0), (r1, c1) in merges:
        if r0 >= MAX_ROWS or c0 >= MAX_COLS:
            continue
        cell = new(r0 + 1, c0 + 1, r1 + 1, c1 + 1)
        for r in range(r0 + 1, min(r1 + 1, MAX_ROWS) + 1):
            for c in range(c0 + 1, min(c1 + 1, MAX_COLS) + 1):
                grid.cells[(r, c)] = cell
        grid.max_row, grid.max_col = max(grid.max_row, min(r1 + 1, MAX_ROWS)), max(grid.max_col, min(c1 + 1, MAX_COLS))
    for r in range(1, grid.max_row + 1):
        for c in range(1, grid.max_col + 1):
            if (r, c) not in grid.cells:
                grid.cells[(r, c)] = new(r, c)
    return grid


def _plain(value: object) -> object:
    """calamine's value as openpyxl would give it: empty is None, a whole float an int, text without the
    control characters an .xlsx cannot hold (the twin must be writable)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


class _OdsPosition(TypedDict):
    sheet: str
    row: int
    col: int
    repeat: int


def _ods_merges(data: bytes) -> dict[str, list[Merge]]:
    """{sheet name: [((row, col), (last row, last col)), ...]} (0-based) from content.xml's
    number-rows/columns-spanned, within the rows and columns a form may use."""
    merges: dict[str, list[Merge]] = {}
    position: _OdsPosition = {"sheet": "", "row": 0, "col": 0, "repeat": 1}

    def start(tag: str, attributes: dict[str, str]) -> None:
        namespace, _, name = tag.rpartition(" ")
        if namespace != TABLE_NS:
            return

        def attribute(key: str, default: int = 1) -> int:
            return int(attributes.get(f"{TABLE_NS} {key}", default))

        if name == "table":
            position.update({"sheet": attributes.get(f"{TABLE_NS} name", ""), "row": 0})
            merges.setdefault(position["sheet"], [])
        elif name == "table-row":
            position.update({"col": 0, "repeat": attribute("number-rows-repeated")})
        elif name in ("table-cell", "covered-table-cell"):
            rows, cols = attribute("number-rows-spanned"), attribute("number-columns-spanned")
            row, col = position["row"], position["col"]
            if (rows > 1 or cols > 1) and row < MAX_ROWS and col < MAX_COLS:
                merges[position["sheet"]].append(((row, col), (row + rows - 1, col + cols - 1)))
            position["col"] += attribute("number-columns-repeated")

    def end(tag: str) -> None:
        if tag == f"{TABLE_NS} table-row":
            position["row"] += position["repeat"]

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    with zipfile.ZipFile(io.BytesIO(data)) as package, package.open("content.xml") as content:
        parser.ParseFile(content)
    return merges


@dataclass
class TwinBook:
    """The numbered .xlsx twin of a legacy workbook: the visible sheets' values and merged ranges as read
    (with the number written in); the original keeps everything else."""
    grids: list[Grid]

    def save(self, target: IO[bytes]) -> None:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for grid in self.grids:
            sheet = book.create_sheet(grid.name)
            for cell in grid.distinct():
                if cell.value is not None:
                    _set_value(sheet.cell(cell.row, cell.col), cell.value)
                if (cell.last_row, cell.last_col) != (cell.row, cell.col):
                    sheet.merge_cells(start_row=cell.row, start_column=cell.col,
                                      end_row=cell.last_row, end_column=cell.last_col)
        if not book.worksheets:
            book.create_sheet()
        book.save(target)


def _set_value(target: SheetCell, value: object) -> None:
    """A value as data: text never becomes a formula, dates keep a date format."""
    target.value = value
    if isinstance(value, str):
        target.data_type = "s"
    elif isinstance(value, datetime):
        target.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, date):
        target.number_format = "yyyy-mm-dd"


# ---------------------------------------------------------------- doc, wps (LibreOffice)
SOFFICE_SECONDS = 60


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    """The .docx LibreOffice makes of a .doc/.wps, in a private temporary folder and profile (so that
    a running LibreOffice or another conversion does not interfere), killed after SOFFICE_SECONDS."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise CannotOpen(f"本机未安装 LibreOffice，无法读取 {suffix} 文件，请在 Word/WPS 中另存为 .docx 后重新放入。")
    with tempfile.TemporaryDirectory(prefix="tousu-soffice-") as temp:
        folder = Path(temp)
        source = folder / f"form{suffix.lower()}"
        source.write_bytes(data)
        command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                   "--convert-to", "docx", "--outdir", str(folder / "out"), str(source)]
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as process:
            try:
                process.wait(timeout=SOFFICE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        converted = folder / "out" / "form.docx"
        if not converted.exists():
            raise CannotOpen(f"LibreOffice 无法转换该 {suffix} 文件（已损坏、已加密或转换超时），"
                             f"请在 Word/WPS 中另存为 .docx 后重新放入。")
        return converted.read_bytes()


# ---------------------------------------------------------------- docx
def load_docx(data: bytes) -> Source:
    document = docx.Document(io.BytesIO(data))
    body, headings = _paragraph_grid(document)
    tables = [_table_grid(table, number) for number, table in enumerate(document.tables, start=1)]
    if tables:
        headings += [c.text for c in tables[0].distinct() if c.row <= HEADING_ROWS and c.text]
    return Source("docx", [Page([body] + tables, headings)], document, data)


def _paragraph_grid(document: WordDocument) -> tuple[Grid, list[str]]:
    """Body paragraphs (outside tables) as a one-column grid, for 'label：value' lines; and the
    texts of those before the first table, where the title stands."""
    grid, headings, before_tables = Grid("正文"), list[str](), True
    paragraphs = iter(document.paragraphs)
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:tbl"):
            before_tables = False
            continue
        if child.tag != qn("w:p"):
            continue
        paragraph = next(paragraphs)
        text = _element_text(child).strip()
        if not text:
            continue
        grid.max_row += 1
        grid.cells[(grid.max_row, 1)] = Cell(grid.max_row, 1, text, f"正文第{grid.max_row}段",
                                             handle=paragraph, locator=word_place(child))
        if before_tables:
            headings.append(text)
    grid.max_col = 1
    return grid, headings


def _table_grid(table: Table, number: int) -> Grid:
    grid = Grid(f"表{number}")
    by_tc: dict[int, Cell] = {}
    for r, row in enumerate(table.rows[:MAX_ROWS], start=1):
        for c, dc in enumerate(row.cells[:MAX_COLS], start=1):
            cell = by_tc.get(id(dc._tc))
            if cell is None:
                cell = Cell(r, c, _element_text(dc._tc).strip() or None,
                            f"表{number} 第{r}行第{c}列", handle=dc, locator=word_place(dc._tc))
                by_tc[id(dc._tc)] = cell
            cell.last_row, cell.last_col = max(cell.last_row, r), max(cell.last_col, c)
            grid.cells[(r, c)] = cell
            grid.max_col = max(grid.max_col, c)
        grid.max_row = r
    return grid


def _element_text(element: BaseOxmlElement) -> str:
    """Text of a paragraph or table cell including symbol-font check boxes (w:sym, Wingdings runs)
    and content-control check boxes, which python-docx's .text leaves out."""
    parts = []
    for node in element.iter():
        tag = node.tag
        if tag == qn("w:t"):
            run = node.getparent()
            fonts = run.find(qn("w:rPr") + "/" + qn("w:rFonts")) if run is not None else None
            marks = _symbol_marks(fonts.get(qn("w:ascii")) if fonts is not None else None)
            parts.append("".join(marks.get(ch, ch) for ch in (node.text or "")))
        elif tag == qn("w:sym"):
            char = chr(int(node.get(qn("w:char"), "0"), 16))
            parts.append(_symbol_marks(node.get(qn("w:font"))).get(char, ""))
        elif tag in (qn("w:tab"),):
            parts.append(" ")
        elif tag in (qn("w:br"), qn("w:cr")) or (tag == qn("w:p") and parts):
            parts.append("\n")
    return "".join(parts)


class CannotWrite(ToolkitError):
    """The place found for a value is of a kind no writer knows: never skipped silently."""


def _write_paragraphs(paragraphs: list[Paragraph], text: str) -> None:
    """The text in the first paragraph's first run (keeping its formatting); every other run emptied."""
    runs = paragraphs[0].runs
    if runs:
        runs[0].text = text
        for run in runs[1:]:
            run.text = ""
    else:
        paragraphs[0].add_run(text)
    for extra in paragraphs[1:]:
        for run in extra.runs:
            run.text = ""


def write_text(cell: Cell, text: str) -> None:
    """Write a value into the form (the assigned number), keeping the cell's formatting: a Word table
    cell, a Word body paragraph ('投诉编号：…' lines) or a worksheet cell (the top-left of a merge)."""
    handle = cell.handle
    if isinstance(handle, DocxCell):
        _write_paragraphs(handle.paragraphs, text)
    elif isinstance(handle, Paragraph):
        _write_paragraphs([handle], text)
    elif isinstance(handle, XlsxBook) and isinstance(cell.locator, SheetPlace):
        handle.written[cell.locator] = text
    elif not isinstance(handle, TwinCell):      # a twin cell: TwinBook saves cell.value, set below
        raise CannotWrite(f"无法把「{text}」写入表单的 {cell.where}（{type(handle).__name__}），请使用标准模板。")
    cell.value = text
