"""A stand-in for an xlwings Book on Linux: the same attributes the entry points use (fullname,
save, sheets.active / [name] / add, names, range(...).value / .number_format, used_range.value,
clear_contents), backed by a real .xlsx file through openpyxl so that save() writes what Excel would.
A value assigned to a range is taken the way Excel takes a value assigned through Range.Value (as if
typed): a string with a leading apostrophe is the rest as text (quote prefix set); any string in a
cell formatted as text ("@") is text; otherwise "=…" (and "+…", "-…", "@…" that are not numbers) is a
formula, a string that reads as a number is a number, and the rest is text."""
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

FORMULA_STARTS = ("=", "+", "-", "@")


def _number(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def excel_assign(cell, value) -> None:
    """Store `value` in an openpyxl cell as Excel stores a value assigned to Range.Value."""
    if not isinstance(value, str):
        cell.value = value
    elif value.startswith("'"):
        cell.value, cell.data_type, cell.quotePrefix = value[1:], "s", True
    elif cell.number_format == "@":
        cell.value, cell.data_type = value, "s"
    elif _number(value) is not None:
        cell.value = _number(value)
    elif value.startswith(FORMULA_STARTS) and len(value) > 1:
        cell.value = value if value.startswith("=") else "=" + value       # data_type "f"
    else:
        cell.value, cell.data_type = value, "s"


class FakeRange:
    def __init__(self, sheet, address: str):
        self.ws = sheet.ws
        column, self.row = coordinate_from_string(address)
        self.col = column_index_from_string(column)

    @property
    def value(self):
        return self.ws.cell(self.row, self.col).value

    @value.setter
    def value(self, value):
        rows = value if isinstance(value, list) and value and isinstance(value[0], list) else [[value]]
        for r, row in enumerate(rows):
            for c, item in enumerate(row):
                excel_assign(self.ws.cell(self.row + r, self.col + c), item)

    @property
    def number_format(self):
        return self.ws.cell(self.row, self.col).number_format

    @number_format.setter
    def number_format(self, code):
        self.ws.cell(self.row, self.col).number_format = code


class FakeUsedRange:
    def __init__(self, ws):
        self.ws = ws

    @property
    def value(self):
        return [[cell.value for cell in row] for row in self.ws.iter_rows()]


class FakeSheet:
    def __init__(self, ws):
        self.ws = ws

    @property
    def name(self):
        return self.ws.title

    def range(self, address: str) -> FakeRange:
        return FakeRange(self, address)

    @property
    def used_range(self):
        return FakeUsedRange(self.ws)

    def clear_contents(self):
        for row in self.ws.iter_rows():
            for cell in row:
                cell.value = None


class FakeSheets:
    def __init__(self, book):
        self.book = book

    def __iter__(self):
        return (FakeSheet(ws) for ws in self.book.wb.worksheets)

    def __len__(self):
        return len(self.book.wb.worksheets)

    def __getitem__(self, key):
        return FakeSheet(self.book.wb.worksheets[key] if isinstance(key, int) else self.book.wb[key])

    @property
    def active(self):
        return FakeSheet(self.book.wb.active)

    def add(self, name, after=None):
        return FakeSheet(self.book.wb.create_sheet(name))


class FakeBook:
    def __init__(self, path: Path):
        self.fullname = str(path)
        self.wb = openpyxl.load_workbook(path, keep_vba=Path(path).suffix.lower() == ".xlsm")
        self.names = {}
        self.saved = 0

    @property
    def sheets(self):
        return FakeSheets(self)

    def save(self):
        self.wb.save(self.fullname)
        self.saved += 1

    def activate(self, name: str):
        self.wb.active = self.wb.worksheets.index(self.wb[name])
