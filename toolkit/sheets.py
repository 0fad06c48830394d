"""Workbooks the office reads and prints (ledger, score sheet, report): every text cell stays text (no
formula, no error value), dates are real dates, the header is frozen and filtered, every table prints on
A4 with borders, wrapped text, its title and header repeated and page numbers, and the file is replaced
atomically. A workbook held open in Excel (locked on Windows) raises WorkbookLocked instead of
half-writing it."""
import math
from copy import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from .errors import ToolkitError
from .files import write_atomically

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
FONT = "宋体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
PAGE_NUMBERS = "第 &P 页 共 &N 页"
DATETIME_FORMAT, DATE_FORMAT = "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH = 8, 40            # a column fits its longest value within these (wider text wraps)
LINE_POINTS = 13.5                      # one line of 10-point text
PORTRAIT_POINTS = 520                   # what fits across A4 portrait between the margins


class WorkbookLocked(ToolkitError):
    """The target workbook is open elsewhere; the update is kept for the next run."""


def put(ws, row: int, col: int, value):
    """Write one value. Text is always a text cell: text Excel would read as a formula is stored with
    the quote prefix, and text such as #N/A is not turned into an error value."""
    return set_value(ws.cell(row, col), value)


def set_value(cell, value):
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
    return cell


def text_width(value) -> int:
    """The column width (Excel's units) a value needs on one line: a Chinese character takes two."""
    if isinstance(value, datetime):
        return len("2026-11-20 15:30")
    if isinstance(value, date):
        return len("2026-11-20")
    lines = ("" if value is None else str(value)).splitlines() or [""]
    # GBK spends two bytes on a Chinese character or full-width sign and one on ASCII: exactly the
    # width Excel gives them, counted in C (seconds saved on a 10,000-row ledger).
    return max(len(line.encode("gbk", "replace")) for line in lines)


STYLES = {
    "title": {"font": Font(name=FONT, size=16, bold=True),
              "alignment": Alignment(horizontal="center", vertical="center")},
    "header": {"font": Font(name=FONT, size=10, bold=True), "fill": HEADER_FILL, "border": BOX,
               "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True)},
    "body": {"font": Font(name=FONT, size=10), "border": BOX, "alignment": Alignment(vertical="top", wrap_text=True)},
    "datetime": {"font": Font(name=FONT, size=10), "border": BOX, "alignment": Alignment(vertical="top"),
                 "number_format": DATETIME_FORMAT},
    "date": {"font": Font(name=FONT, size=10), "border": BOX, "alignment": Alignment(vertical="top"),
             "number_format": DATE_FORMAT},
}


class _Styler:
    """Gives cells the named STYLES: the first cell of a style is styled attribute by attribute (which
    registers its font, border… in the workbook), every later one copies that cell's style record —
    seconds saved on a 10,000-row ledger (openpyxl's own copy_worksheet copies `_style` the same way)."""

    def __init__(self):
        self.records = {}

    def __call__(self, cell, name: str):
        if name in self.records:
            cell._style = copy(self.records[name])
        else:
            for attribute, value in STYLES[name].items():
                setattr(cell, attribute, value)
            self.records[name] = copy(cell._style)
        return cell


def write_table(ws, headers: list, rows, widths: dict | None = None, start_row: int = 1,
                title: str | None = None, printed: int | None = None) -> int:
    """A table: an optional title row, the header row (frozen, filtered, bold) and the rows below it,
    all boxed and wrapped, each row as tall as its longest text needs; each column as wide as its
    longest value (within MIN/MAX_WIDTH) unless `widths` names it. A table that starts the sheet sets
    the sheet's printing (the first `printed` columns only, when given). Returns the last row written."""
    rows = [list(values) for values in rows]
    header_row = start_row + (1 if title else 0)
    column_widths = _column_widths(ws, headers, rows, widths or {})
    style = _Styler()
    for r, values, kind in [(header_row, headers, "header")] + \
            [(r, values, None) for r, values in enumerate(rows, start=header_row + 1)]:
        lines = 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(r, col)
            style(cell, kind or ("datetime" if isinstance(value, datetime) else "date" if isinstance(value, date)
                                 else "body"))
            set_value(cell, value)
            if isinstance(value, str) and len(value) * 2 > column_widths[col - 1] - 1:
                lines = max(lines, _lines(value, column_widths[col - 1]))
        if lines > 1:
            ws.row_dimensions[r].height = lines * LINE_POINTS + 3
    last_row = header_row + len(rows)
    columns = printed or len(headers)
    if title:
        style(ws.cell(start_row, 1), "title")
        put(ws, start_row, 1, title)
        ws.merge_cells(start_row=start_row, start_column=1, end_row=start_row, end_column=columns)
        ws.row_dimensions[start_row].height = 30
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(headers))}{max(last_row, header_row + 1)}"
    if start_row == 1:
        print_setup(ws, f"{start_row}:{header_row}", columns, last_row if printed else None, name_on_top=not title)
    return last_row


def _column_widths(ws, headers: list, rows: list, widths: dict) -> list:
    """Set and return each column's width: as given, else its longest value's; never narrower than
    an earlier table on the same sheet made it."""
    found = []
    for col, header in enumerate(headers, start=1):
        width = widths.get(header)
        if width is None:
            distinct = {values[col - 1] for values in rows if len(values) >= col}
            width = min(max(max(map(text_width, distinct | {header})) + 2, MIN_WIDTH), MAX_WIDTH)
        letter = get_column_letter(col)
        earlier = ws.column_dimensions.get(letter)
        width = max(width, earlier.width if earlier is not None and earlier.customWidth else 0)
        ws.column_dimensions[letter].width = width
        found.append(width)
    return found


def _lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column `width` wide."""
    per_line = max(width - 1, 2)
    return sum(max(1, math.ceil(text_width(line) / per_line)) for line in text.splitlines() or [""])


def _points(width: float) -> float:
    return (width * 7 + 5) * 0.75


def a4_page(ws: Any, orientation: str, tall: int, margins: tuple[float, float]) -> None:
    """A4 in `orientation`, the columns scaled to one page width and the rows to `tall` pages (0: as many
    as needed), centred, with (sides, top and bottom) margins in inches. Forms and workbooks alike."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = tall
    ws.page_margins.left = ws.page_margins.right = margins[0]
    ws.page_margins.top = ws.page_margins.bottom = margins[1]
    ws.print_options.horizontalCentered = True


def print_setup(ws, title_rows: str | None, columns: int, last_row: int | None = None,
                name_on_top: bool = False) -> None:
    """A4, portrait when the columns fit across it, else landscape; the columns scaled to the page
    width, the title and header rows on every page, 「第 N 页 共 M 页」 in the footer (and the sheet's
    name in the page header of a sheet without a title row). With `last_row` the print area is the
    first `columns` columns down to it."""
    width = sum(_points(getattr(ws.column_dimensions.get(get_column_letter(c)), "width", None) or 13)
                for c in range(1, columns + 1))
    a4_page(ws, "portrait" if width <= PORTRAIT_POINTS else "landscape", 0, (0.4, 0.6))
    ws.page_margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddFooter.center.text = PAGE_NUMBERS
    ws.oddFooter.center.size = 9
    ws.oddFooter.center.font = f"{FONT},Regular"
    if name_on_top:
        ws.oddHeader.center.text = "&A"
        ws.oddHeader.center.size = 12
        ws.oddHeader.center.font = f"{FONT},Bold"
    if last_row is not None:
        ws.print_area = f"A1:{get_column_letter(columns)}{last_row}"


def save_atomically(book, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(target, book.save)
    except PermissionError:
        raise WorkbookLocked(f"「{target.name}」正被其他程序（如 Excel）打开，本次未能更新；"
                             f"请关闭后重新运行，或等待下一批次自动更新。") from None
