"""xlsx sheets and docx tables as grids of located cells. A merged range is one cell (every
position in it maps to the same Cell); each cell knows how to name itself to a clerk."""
import io
from dataclasses import dataclass, field

import docx
import openpyxl
from docx.oxml.ns import qn
from docx.table import _Cell as DocxCell
from docx.text.paragraph import Paragraph
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.utils import get_column_letter

from ..errors import ToolkitError
from .patch import SheetPlace, word_place

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


def _symbol_marks(font_name: str | None) -> dict:
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

    def __post_init__(self):
        self.last_row = self.last_row or self.row
        self.last_col = self.last_col or self.col

    @property
    def text(self) -> str:
        return "" if self.value is None else str(self.value).strip()


@dataclass
class Grid:
    name: str
    cells: dict = field(default_factory=dict)   # (row, col) -> Cell, merged positions share one
    max_row: int = 0
    max_col: int = 0

    def at(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def distinct(self):
        seen = set()
        for key in sorted(self.cells):
            cell = self.cells[key]
            if id(cell) not in seen:
                seen.add(id(cell))
                yield cell


@dataclass
class Page:
    """What one form may stand on: a worksheet, or a whole Word document (its body and tables)."""
    grids: list
    headings: list              # texts where a title may stand, in reading order


@dataclass
class Source:
    """A parsed file: its pages (the active sheet first), the document object for writing back, and
    the bytes it was read from (the number is patched into them)."""
    format: str                 # "xlsx" or "docx"
    pages: list
    document: object
    data: bytes

    def save(self, target) -> None:
        self.document.save(target)


# ---------------------------------------------------------------- xlsx
def load_xlsx(data: bytes, keep_vba: bool = False) -> Source:
    book = openpyxl.load_workbook(io.BytesIO(data), keep_vba=keep_vba, rich_text=False)
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    active = book.active if book.active in visible else (visible[0] if visible else None)
    ordered = [active] + [ws for ws in visible if ws is not active] if active else []
    grids = [_sheet_grid(ws, "" if ws is active else f"{ws.title}!") for ws in ordered]
    pages = [Page([grid], [c.text for c in grid.distinct() if c.row <= HEADING_ROWS and c.text]) for grid in grids]
    return Source("xlsx", pages, book, data)


def _sheet_grid(ws, prefix: str) -> Grid:
    """The sheet's cells; `prefix` names the sheet in cell references unless it is the active one."""
    grid = Grid(ws.title, max_row=min(ws.max_row, MAX_ROWS), max_col=min(ws.max_column, MAX_COLS))
    merged = {}
    for rng in ws.merged_cells.ranges:
        if rng.min_row > MAX_ROWS or rng.min_col > MAX_COLS:
            continue
        top = ws.cell(rng.min_row, rng.min_col)
        cell = Cell(rng.min_row, rng.min_col, _xlsx_value(top), f"{prefix}{top.coordinate}",
                    rng.max_row, rng.max_col, top.number_format, top, SheetPlace(ws.title, rng.min_row, rng.min_col))
        for r in range(rng.min_row, min(rng.max_row, MAX_ROWS) + 1):
            for c in range(rng.min_col, min(rng.max_col, MAX_COLS) + 1):
                merged[(r, c)] = cell
    grid.cells.update(merged)
    for row in ws.iter_rows(min_row=1, max_row=grid.max_row, max_col=grid.max_col):
        for xc in row:
            key = (xc.row, xc.column)
            if key in merged:
                continue
            grid.cells[key] = Cell(xc.row, xc.column, _xlsx_value(xc),
                                   f"{prefix}{get_column_letter(xc.column)}{xc.row}", 0, 0,
                                   xc.number_format, xc, SheetPlace(ws.title, xc.row, xc.column))
    return grid


def _xlsx_value(xc):
    value = xc.value
    if isinstance(value, str):
        marks = _symbol_marks(xc.font.name if xc.font else None)
        if marks:
            value = "".join(marks.get(ch, ch) for ch in value)
    return value


# ---------------------------------------------------------------- docx
def load_docx(data: bytes) -> Source:
    document = docx.Document(io.BytesIO(data))
    body, headings = _paragraph_grid(document)
    tables = [_table_grid(table, number) for number, table in enumerate(document.tables, start=1)]
    if tables:
        headings += [c.text for c in tables[0].distinct() if c.row <= HEADING_ROWS and c.text]
    return Source("docx", [Page([body] + tables, headings)], document, data)


def _paragraph_grid(document) -> tuple[Grid, list]:
    """Body paragraphs (outside tables) as a one-column grid, for 'label：value' lines; and the
    texts of those before the first table, where the title stands."""
    grid, headings, before_tables = Grid("正文"), [], True
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


def _table_grid(table, number: int) -> Grid:
    grid = Grid(f"表{number}")
    by_tc = {}
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


def _element_text(element) -> str:
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


def _write_paragraphs(paragraphs: list, text: str) -> None:
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
    elif isinstance(handle, SheetCell):
        handle.value = text
        handle.data_type = "s"
    else:
        raise CannotWrite(f"无法把「{text}」写入表单的 {cell.where}（{type(handle).__name__}），请使用标准模板。")
    cell.value = text
