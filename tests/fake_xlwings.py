"""A stand-in for an xlwings Book on Linux: the same attributes the entry points use (fullname,
save, sheets.active / [name] / add, names, range(...).value, used_range.value, clear_contents),
backed by a real .xlsx file through openpyxl so that save() writes what Excel would."""
from pathlib import Path

import openpyxl
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string


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
                self.ws.cell(self.row + r, self.col + c).value = item


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
