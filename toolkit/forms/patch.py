"""Write a text (the assigned number) into the clerk's file without re-saving it: one worksheet cell or
one Word table cell / body paragraph is rewritten inside its XML part, and every other byte stays as
sent — the other zip members keep their original compressed records, and inside the patched part only
the bytes of the one element change. Anything this cannot do faithfully raises CannotPatch (the caller
then re-saves the whole document)."""
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from xml.parsers import expat
from xml.sax.saxutils import escape

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from ..errors import ToolkitError

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
DOCUMENT = "word/document.xml"
START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
DECLARED_ENCODING = re.compile(rb"""(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']+)""")
CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")
# Children of a paragraph-mark rPr that a run's rPr may not hold (CT_ParaRPr beyond CT_RPr).
PARAGRAPH_MARK_ONLY = {"ins", "del", "moveFrom", "moveTo", "rPrChange"}


class CannotPatch(ToolkitError):
    """The package or the place cannot be patched faithfully: the caller re-saves the whole document."""


class SheetPlace(NamedTuple):
    """A worksheet cell by sheet title and 1-based position (a merged range: its top-left cell)."""
    sheet: str
    row: int
    col: int


class WordPlace(NamedTuple):
    """A w:tc or w:p in word/document.xml: the element-child indices from the root down to it."""
    path: tuple[int, ...]


def word_place(element: Any) -> WordPlace:
    """The place of an lxml element of word/document.xml (python-docx's `_tc` or `_p`)."""
    path = []
    parent = element.getparent()
    while parent is not None:
        path.append(sum(1 for s in element.itersiblings(preceding=True) if isinstance(s.tag, str)))
        element, parent = parent, parent.getparent()
    return WordPlace(tuple(reversed(path)))


def patch_text(data: bytes, place: object, text: str) -> bytes:
    """The package `data` with `text` written at `place` (a SheetPlace or a WordPlace)."""
    package = _Package(data)
    if isinstance(place, SheetPlace):
        part = sheet_part(package.read, place.sheet)
        patched = _patch_sheet(package.read(part), place, text)
    elif isinstance(place, WordPlace):
        part = DOCUMENT
        patched = _patch_word(package.read(part), place, text)
    else:
        raise CannotPatch(f"no place to patch: {place!r}")
    _check_parses(patched)                      # never hand back a part that does not parse
    return package.replace(part, patched)


# ---------------------------------------------------------------- zip members, copied raw
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
LOCAL = struct.Struct("<4s5H3L2H")
END = struct.Struct("<4s4H2LH")
ZIP64_LOCATOR = b"PK\x06\x07"


class _Package:
    """A zip read once: members by name, and the raw records needed to replace one of them."""

    def __init__(self, data: bytes):
        self.data = data
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as exc:
            raise CannotPatch(f"not a zip: {exc}") from None
        end = data.rfind(b"PK\x05\x06", max(0, len(data) - END.size - 0xFFFF))
        if end < 0 or data[max(0, end - 20):end].startswith(ZIP64_LOCATOR):
            raise CannotPatch("no plain end-of-central-directory record (zip64?)")
        _, disk, _, entries, total, size, offset, comment = END.unpack_from(data, end)
        if disk or entries != total or offset + size != end or end + END.size + comment != len(data):
            raise CannotPatch("central directory not where the end record says")
        self.end, self.central = end, offset
        self.records = []                                    # (offset in data, fields) in directory order
        position = offset
        while position < end:
            fields = CENTRAL.unpack_from(data, position)
            if fields[0] != b"PK\x01\x02":
                raise CannotPatch("broken central directory")
            self.records.append((position, fields))
            position += CENTRAL.size + fields[12] + fields[13] + fields[14]
        names = [info.filename for info in self.zip.infolist()]
        if len(self.records) != len(names) or len(set(names)) != len(names):
            raise CannotPatch("central directory and zipfile disagree, or a name stands twice")

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except KeyError:
            raise CannotPatch(f"no part {name}") from None

    def replace(self, name: str, content: bytes) -> bytes:
        """The package with member `name` holding `content`; every other member's local record and
        central entry copied byte for byte (only their offsets move)."""
        index = next(i for i, info in enumerate(self.zip.infolist()) if info.filename == name)
        _, fields = self.records[index]
        start = fields[18]
        if fields[5] & 0x1 or fields[6] not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                or 0xFFFFFFFF in (fields[10], fields[11], start):
            raise CannotPatch(f"{name} is encrypted, zip64 or compressed by another method")
        local = LOCAL.unpack_from(self.data, start)
        stop = min([f[18] for _, f in self.records if f[18] > start] + [self.central])
        flags, method = local[2] & ~0x8, fields[6]             # sizes known now: no data descriptor
        if method == zipfile.ZIP_DEFLATED:
            packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            body = packer.compress(content) + packer.flush()
        else:
            body = content
        crc = zlib.crc32(content)
        header = self.data[start + LOCAL.size:start + LOCAL.size + local[9] + local[10]]
        record = LOCAL.pack(*local[:2], flags, method, *local[4:6], crc, len(body), len(content),
                            *local[9:]) + header + body
        shift = len(record) - (stop - start)
        central = bytearray()
        for position, f in self.records:
            raw = self.data[position:position + CENTRAL.size + f[12] + f[13] + f[14]]
            if f[18] == start:
                f = f[:5] + (f[5] & ~0x8,) + f[6:9] + (crc, len(body), len(content)) + f[12:]
            elif f[18] > start:
                f = f[:18] + (f[18] + shift,)
            central += CENTRAL.pack(*f) + raw[CENTRAL.size:]
        end = bytearray(self.data[self.end:])
        struct.pack_into("<L", end, 16, self.central + shift)
        return b"".join((self.data[:start], record, self.data[stop:self.central], central, end))


# ---------------------------------------------------------------- XML located by byte offsets
@dataclass(eq=False)
class _Node:
    name: str                       # as written, prefix included
    attrs: dict[str, str]
    start: int                      # offset of '<'
    inner: int = 0                  # just after the start tag
    close: int = 0                  # offset of the end tag ('</'), == inner for an empty element
    end: int = 0                    # just after the element
    children: list["_Node"] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.name.rpartition(":")[2]

    @property
    def prefix(self) -> str:
        return self.name[:len(self.name) - len(self.local)]

    @property
    def empty(self) -> bool:
        return self.inner == self.end

    def child(self, local: str) -> "_Node | None":
        return next((c for c in self.children if c.local == local), None)

    def own(self, local: str, stop: frozenset[str] = frozenset()) -> list["_Node"]:
        """Descendants named `local`, in document order, not looking inside them or inside `stop`."""
        found: list[_Node] = []
        for c in self.children:
            if c.local == local:
                found.append(c)
            elif c.local not in stop:
                found += c.own(local, stop)
        return found


class _Enough(Exception):
    """The elements needed have been read: the rest of the part is not built into nodes."""


def _parse(xml: bytes, until_row: int = 0) -> _Node:
    """The part's elements with their byte offsets (a part not in UTF-8, or with a DTD, is not patched).
    With `until_row`, a worksheet is read only up to the first row numbered beyond it (that row
    included, unclosed): what patching a cell of row `until_row` needs (the rest is checked whole
    once patched, by _check_parses)."""
    declared = DECLARED_ENCODING.match(xml)
    if xml[:2] in (b"\xff\xfe", b"\xfe\xff") or (declared and declared.group(1).lower() not in (b"utf-8", b"utf8")):
        raise CannotPatch("a part not in UTF-8")
    parser = expat.ParserCreate()
    stack = [_Node("", {}, 0)]

    def start(name: str, attrs: dict[str, str]) -> None:
        node = _Node(name, attrs, parser.CurrentByteIndex)
        tag = START_TAG.match(xml, node.start)
        if tag is None:
            raise CannotPatch(f"unexpected start tag at {node.start}")
        node.inner = tag.end()
        if tag.group(1):
            node.close = node.end = node.inner
        stack[-1].children.append(node)
        stack.append(node)
        if until_row and node.local == "row" and attrs.get("r", "").isdigit() and int(attrs["r"]) > until_row:
            raise _Enough

    def end(name: str) -> None:
        node = stack.pop()
        if not node.end:
            node.close = parser.CurrentByteIndex
            node.end = xml.index(b">", node.close) + 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _refuse_dtd
    try:
        parser.Parse(xml, True)
    except _Enough:
        pass
    except expat.ExpatError as exc:
        raise CannotPatch(f"part does not parse: {exc}") from None
    return stack[0].children[0]


def _refuse_dtd(*_: object) -> None:
    raise CannotPatch("DTD in the part")


def _check_parses(xml: bytes) -> None:
    """That a patched part is well-formed XML without a DTD (expat alone, no tree)."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = parser.EntityDeclHandler = _refuse_dtd
    try:
        parser.Parse(xml, True)
    except expat.ExpatError as exc:
        raise CannotPatch(f"part does not parse: {exc}") from None


Edit = tuple[int, int, bytes]


def _splice(xml: bytes, edits: list[Edit]) -> bytes:
    """Apply non-overlapping (start, end, replacement) edits."""
    out: list[bytes] = []
    position = 0
    for start, end, replacement in sorted(edits, key=lambda e: e[0]):
        out += [xml[position:start], replacement]
        position = end
    out.append(xml[position:])
    return b"".join(out)


def _insert(xml: bytes, node: _Node, at: int, content: bytes) -> Edit:
    """The edit putting `content` into `node` at offset `at` (node.close for its end); an empty
    element is opened up."""
    if not node.empty:
        return at, at, content
    opening = re.sub(rb"\s*/>$", b">", xml[node.start:node.end])
    return node.start, node.end, opening + content + f"</{node.name}>".encode()


def _attributes(attrs: dict[str, str]) -> str:
    return "".join(f' {name}="{escape(value, {chr(34): "&quot;"})}"' for name, value in attrs.items())


def _text_element(name: str, text: str) -> str:
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f"<{name}{space}>{escape(text)}</{name}>"


# ---------------------------------------------------------------- xlsx
def sheet_part(read: Callable[[str], bytes], title: str) -> str:
    """The zip member holding the worksheet titled `title`, through the workbook and its relationships;
    `read` gives a member's bytes."""
    book = _parse(read(WORKBOOK))
    sheets = book.child("sheets")
    rid = next((value for s in (sheets.children if sheets is not None else []) if s.attrs.get("name") == title
                for key, value in s.attrs.items() if key.rpartition(":")[2] == "id"), None)
    rels = _parse(read(WORKBOOK_RELS))
    target = next((r.attrs.get("Target", "") for r in rels.children if r.attrs.get("Id") == rid), None)
    if rid is None or not target:
        raise CannotPatch(f"sheet {title!r} not found in the workbook")
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))


def _patch_sheet(xml: bytes, place: SheetPlace, text: str) -> bytes:
    """The cell as an inline string keeping its style; a missing cell (or row) created in order."""
    sheet, data, rows, row = _sheet_rows(xml, place.row, until_row=place.row)
    if row is None:             # rows out of order would put it further: read them all to be sure
        sheet, data, rows, row = _sheet_rows(xml, place.row)
    p = data.prefix
    if row is None:
        after = next((r for number, r in rows if number > place.row), None)
        cell = _cell_xml(p, {"r": _ref(place)} | _style(sheet, place, None), text)
        new_row = f'<{p}row r="{place.row}">{cell}</{p}row>'.encode()
        return _splice(xml, [_insert(xml, data, after.start if after else data.close, new_row)])
    cells = [(_column(c.attrs.get("r"), place.row), c) for c in row.children if c.local == "c"]
    found = next((c for col, c in cells if col == place.col), None)
    if found is None:
        after = next((c for col, c in cells if col > place.col), None)
        new_cell = _cell_xml(p, {"r": _ref(place)} | _style(sheet, place, row), text).encode()
        return _splice(xml, [_insert(xml, row, after.start if after else row.close, new_cell)])
    if found.child("f") is not None:
        raise CannotPatch(f"{_ref(place)} holds a formula (calcChain and shared formulas refer to it)")
    attrs = {k: v for k, v in found.attrs.items() if k not in ("t", "cm", "vm")}
    return _splice(xml, [(found.start, found.end, _cell_xml(p, attrs, text).encode())])


def _sheet_rows(xml: bytes, number: int, until_row: int = 0) -> tuple[_Node, _Node, list[tuple[int, _Node]],
                                                                        _Node | None]:
    """(worksheet, sheetData, [(row number, row)], the row numbered `number` or None)."""
    sheet = _parse(xml, until_row)
    data = sheet.child("sheetData")
    if data is None:
        raise CannotPatch("no sheetData")
    rows = [(_number(r.attrs.get("r")), r) for r in data.children if r.local == "row"]
    return sheet, data, rows, next((r for n, r in rows if n == number), None)


def _cell_xml(p: str, attrs: dict[str, str], text: str) -> str:
    return f'<{p}c{_attributes(attrs | {"t": "inlineStr"})}><{p}is>{_text_element(p + "t", text)}</{p}is></{p}c>'


def _style(sheet: _Node, place: SheetPlace, row: _Node | None) -> dict[str, str]:
    """The style Excel gives a cell typed where none was: the row's when it is formatted, else the
    column's."""
    if row is not None and row.attrs.get("customFormat") in ("1", "true") and row.attrs.get("s"):
        return {"s": row.attrs["s"]}
    cols = sheet.child("cols")
    for c in cols.children if cols is not None else []:
        if int(c.attrs.get("min", 0)) <= place.col <= int(c.attrs.get("max", 0)) \
                and c.attrs.get("style", "0") != "0":
            return {"s": c.attrs["style"]}
    return {}


def _ref(place: SheetPlace) -> str:
    return f"{get_column_letter(place.col)}{place.row}"


def _number(value: str | None) -> int:
    if value is None or not value.isdigit():
        raise CannotPatch("a row without its number (r=)")
    return int(value)


def _column(ref: str | None, row: int) -> int:
    match = CELL_REF.fullmatch(ref or "")
    if match is None or int(match.group(2)) != row:
        raise CannotPatch(f"a cell without a usable reference (r={ref!r})")
    return int(column_index_from_string(match.group(1)))


# ---------------------------------------------------------------- docx
def _patch_word(xml: bytes, place: WordPlace, text: str) -> bytes:
    """The text in the first run of the (first) paragraph, keeping its formatting; every other run of
    the cell or paragraph emptied (its rPr kept): what the clerk would type over the old value."""
    node = _parse(xml)
    try:
        for index in place.path:
            node = node.children[index]
    except IndexError:
        raise CannotPatch(f"no element at {place.path}") from None
    if node.local == "p":
        paragraphs = [node]
    elif node.local == "tc":
        paragraphs = node.own("p", frozenset({"tc", "txbxContent"}))
    else:
        raise CannotPatch(f"{node.name} is neither a table cell nor a paragraph")
    if not paragraphs:
        raise CannotPatch("a table cell without a paragraph")
    first = paragraphs[0]
    w = first.prefix
    runs = [r for p in paragraphs for r in p.own("r", frozenset({"p"}))]
    lead = next((r for r in first.children if r.local == "r"), None)
    edits: list[Edit] = []
    for run in runs:
        inner = _run_properties(xml, run) + (_text_element(w + "t", text).encode() if run is lead else b"")
        if run.empty:
            if run is lead:
                edits.append((run.start, run.end, f"<{run.name}>".encode() + inner + f"</{run.name}>".encode()))
        else:
            edits.append((run.inner, run.close, inner))
    if lead is None:
        properties = first.child("pPr")
        mark = properties.child("rPr") if properties is not None else None
        kept = b"" if mark is None or any(c.local in PARAGRAPH_MARK_ONLY for c in mark.children) \
            else xml[mark.start:mark.end]
        new_run = f"<{w}r>".encode() + kept + _text_element(w + "t", text).encode() + f"</{w}r>".encode()
        edits.append(_insert(xml, first, first.close, new_run))
    return _splice(xml, edits)


def _run_properties(xml: bytes, run: _Node) -> bytes:
    properties = run.child("rPr")
    return xml[properties.start:properties.end] if properties is not None else b""
