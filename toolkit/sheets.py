"""Workbooks the office reads (ledger, score sheet, report): every text cell stays text (no formula
injection), dates are real dates, the header is frozen and filtered, and the file is replaced
atomically. A workbook held open in Excel (locked on Windows) raises WorkbookLocked instead of
half-writing it."""
import os
from datetime import date, datetime
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .errors import ToolkitError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
FONT = "宋体"


class WorkbookLocked(ToolkitError):
    """The target workbook is open elsewhere; the update is kept for the next run."""


def put(ws, row: int, col: int, value):
    """Write one value; text that Excel would read as a formula is stored as quoted text."""
    cell = ws.cell(row, col)
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        if text.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES):
            cell.data_type = "s"
            cell.quotePrefix = True
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
    return cell


def write_table(ws, headers: list, rows, widths: dict | None = None, start_row: int = 1) -> None:
    """A header row (frozen, filtered, bold) and the rows below it."""
    for col, header in enumerate(headers, start=1):
        cell = put(ws, start_row, col, header)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    count = 0
    for count, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            cell = put(ws, start_row + count, col, value)
            if isinstance(value, str) and len(value) > 20:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = ws.cell(start_row + 1, 1)
    ws.auto_filter.ref = f"A{start_row}:{get_column_letter(len(headers))}{start_row + max(count, 1)}"
    for col, header in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(col)].width = (widths or {}).get(header, max(10, len(header) * 2 + 2))
    _print_setup(ws, start_row)


def _print_setup(ws, header_row: int) -> None:
    """Landscape A4, all columns on the page width, the header repeated on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{header_row}:{header_row}"


def save_atomically(book, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.stem}.{os.getpid()}.writing.xlsx")
    book.save(temp)
    try:
        os.replace(temp, target)
    except PermissionError:
        temp.unlink(missing_ok=True)
        raise WorkbookLocked(f"「{target.name}」正被其他程序（如 Excel）打开，本次未能更新；"
                             f"请关闭后重新运行，或等待下一批次自动更新。") from None
