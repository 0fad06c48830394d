"""The one form-reading mechanism: recognise a form by its title, find each field by its label
(value = nearest non-label cell to the right, merged ranges as one cell, else the cell below;
'标签：值' inside one cell also counts), then convert values through their declared type."""
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..problems import Problem, defect, error
from .grid import Cell, Grid, Page, Source
from .kinds import FieldSpec, FormKind
from .labels import label_key, normalise
from .values import ValueIssue

if TYPE_CHECKING:
    from ..process import Env

FALLBACK_SHARE = 0.6      # a form without its title is still recognised by most of its labels
NEXT_LABEL = re.compile(r"\s{2,}[^\s:：\d]{1,8}[:：]")      # another '标签：' after a gap of spaces

# (spec, inline value or None, text before the value, text after it) for one label a cell prints.
LabelEntry = tuple[FieldSpec, str | None, str, str]
Labels = dict[int, list[LabelEntry]]        # id(label cell) -> its entries
ByLabel = dict[str, list[FieldSpec]]        # label key -> specs printing it, in declaration order


@dataclass
class FieldValue:
    spec: FieldSpec
    value: Any = None                   # what spec.type.convert gave (kind rules may correct it)
    raw: object = None
    slot: Cell | None = None      # where the value is (or should be typed)
    prefix: str = ""              # text before the value when label and value share the cell
    suffix: str = ""              # text after it in that cell (another '标签：…' after a gap), kept as is
    found: bool = False           # the label is on the form

    @property
    def where(self) -> str:
        return self.slot.where if self.slot else ""


@dataclass
class ConvertContext:
    reference: datetime
    number_format: str = "General"


@dataclass
class Reading:
    kind: FormKind
    source: Source
    fields: dict[str, FieldValue] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def value(self, key: str) -> Any:
        return self.fields[key].value

    def where(self, key: str) -> str:
        return self.fields[key].where

    def label(self, key: str) -> str:
        return self.fields[key].spec.label

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def kind_by_title(headings: Iterable[str], kinds: Iterable[FormKind]) -> FormKind | None:
    """The kind whose title appears first in the headings (longest title wins within one text)."""
    for text in headings:
        folded = normalise(text)
        hits = [(len(t), k) for k in kinds for t in k.titles if normalise(t) in folded]
        if hits:
            return max(hits, key=lambda h: h[0])[1]
    return None


def _filled(page: Page, kind: FormKind) -> int:
    """How many of the kind's fields hold something on the page (unticked boxes hold nothing)."""
    def holds(fv: FieldValue) -> bool:
        if fv.raw is None or (isinstance(fv.raw, str) and not fv.raw.strip()):
            return False
        try:
            return fv.spec.type.convert(fv.raw, ConvertContext(datetime(2000, 1, 1))) is not None
        except ValueIssue:
            return True                     # something the clerk typed, even if it needs fixing
    return sum(1 for fv in _locate(page, kind).values() if holds(fv))


def _titled(source: Source, kinds: Iterable[FormKind]) -> list[tuple[Page, FormKind]]:
    """[(page, kind)] of the pages holding a title, in page order (the active sheet first), the pages
    where the form was filled in before blank ones: a workbook of blank forms saved with another sheet
    active is read from the form the clerk filled."""
    found = [(page, kind) for page in source.pages if (kind := kind_by_title(page.headings, kinds)) is not None]
    return sorted(found, key=lambda item: _filled(*item) == 0) if len(found) > 1 else found


def recognise(source: Source, kinds: tuple[FormKind, ...]) -> FormKind | None:
    """The kind whose title stands on a page (a filled one, the active sheet first); else the kind most
    of whose labels are on one page."""
    titled = _titled(source, kinds)
    if titled:
        return titled[0][1]
    share, best = max(((len(_locate(page, kind)) / len(kind.fields), kind)
                       for page in source.pages for kind in kinds), key=lambda s: s[0], default=(0, None))
    return best if share >= FALLBACK_SHARE else None


def page_of(source: Source, kind: FormKind) -> Page:
    """The one page a form is read from: the first holding its title, else the one holding most of
    its labels. Labels on other sheets never leak into it."""
    titled = _titled(source, [kind])
    if titled:
        return titled[0][0]
    return max(source.pages, key=lambda page: len(_locate(page, kind)))


def read(source: Source, kind: FormKind, env: "Env") -> Reading:
    """Every declared field located and converted, then the kind's rules; `env` carries `now`
    (the reference for dates written without a year) and the `policy`."""
    reading = Reading(kind, source)
    located = _locate(page_of(source, kind), kind)
    for spec in kind.fields:
        fv = located.get(spec.key) or FieldValue(spec)
        reading.fields[spec.key] = fv
        if fv.raw is not None and not (isinstance(fv.raw, str) and not fv.raw.strip()):
            ctx = ConvertContext(env.now, fv.slot.number_format if fv.slot else "General")
            try:
                fv.value = spec.type.convert(fv.raw, ctx)
            except ValueIssue as issue:
                reading.add(_problem(spec.required or "defect", spec.label, fv.where,
                                     f"「{_shown(fv.raw)}」{issue}"))
                continue
        if fv.value is None and spec.required:
            if not fv.found:
                message = f"表单上找不到「{spec.label}」栏，请使用标准模板或补上该栏"
            else:
                message = f"「{spec.label}」" + getattr(spec.type, "blank_hint", "未填写，请补充")
            reading.add(_problem(spec.required, spec.label, fv.where, message))
    for rule in kind.rules:
        rule(reading, env)
    return reading


def _problem(level: str, field_label: str, where: str, message: str) -> Problem:
    return (error if level == "error" else defect)(field_label, where, message)


def _shown(raw: object) -> str:
    text = str(raw).strip().replace("\n", " ")
    return text if len(text) <= 30 else text[:30] + "…"


# ------------------------------------------------------------------ locating labels and values
@functools.cache
def _label_pattern(kind: FormKind) -> re.Pattern[str]:
    """'label：' anywhere in a cell, label characters possibly spaced out."""
    labels = sorted({a for spec in kind.fields for a in spec.labels}, key=len, reverse=True)
    alternatives = ["\\s*".join(map(re.escape, label)) for label in labels]
    return re.compile("(" + "|".join(alternatives) + ")\\s*[:：]")


@functools.cache
def _by_label(kind: FormKind) -> ByLabel:
    """label key -> the fields printed under it, in declaration order."""
    by_label: ByLabel = {}
    for spec in kind.fields:
        for alias in spec.labels:
            by_label.setdefault(label_key(alias), []).append(spec)
    return by_label


def _locate(page: Page, kind: FormKind) -> dict[str, FieldValue]:
    by_label = _by_label(kind)
    pattern = _label_pattern(kind)
    seen: dict[str, int] = {}                   # label key -> occurrences so far, in reading order
    by_grid = [_label_cells(grid, by_label, pattern, seen) for grid in page.grids]
    values = _values_like_labels(page.grids, by_grid)
    if values:                                  # read again without them: they named no field
        seen = {}
        by_grid = [_label_cells(grid, by_label, pattern, seen, values) for grid in page.grids]
    found: dict[str, FieldValue] = {}
    for grid, labels in zip(page.grids, by_grid, strict=True):
        for cell in grid.distinct():
            for spec, inline, prefix, suffix in labels.get(id(cell), ()):
                if spec.key in found and found[spec.key].raw is not None:
                    continue
                if inline:
                    found[spec.key] = FieldValue(spec, raw=inline, slot=cell, prefix=prefix, suffix=suffix,
                                                 found=True)
                    continue
                raw, slot = _value_for(grid, cell, labels, spec)
                if slot is None:            # nowhere to type: the value goes after the label
                    slot, prefix = cell, prefix or f"{cell.text.rstrip(':：')}："
                here = slot is cell
                found[spec.key] = FieldValue(spec, raw=raw, slot=slot, prefix=prefix if here else "",
                                             suffix=suffix if here else "", found=True)
    return found


def _label_cells(grid: Grid, by_label: ByLabel, pattern: re.Pattern[str], seen: dict[str, int],
                 values: frozenset[int] | set[int] = frozenset()) -> Labels:
    """id(cell) -> [(spec, inline value or None, prefix)] for the grid's label cells, except the
    cells in `values`; a label printed for several fields names them in turn (`seen` counts)."""
    labels = {}
    for cell in grid.distinct():
        if id(cell) in values:
            continue
        entries = []
        for key, inline, prefix, suffix in _labels_in(cell, by_label, pattern):
            specs = by_label[key]
            entries.append((specs[min(seen.get(key, 0), len(specs) - 1)], inline, prefix, suffix))
            seen[key] = seen.get(key, 0) + 1
        if entries:
            labels[id(cell)] = entries
    return labels


def _values_like_labels(grids: list[Grid], by_grid: list[Labels]) -> set[int]:
    """Cells whose text is a label but which stand in another label's value slot as its value:
    受理渠道「电话」 reads as the label 电话 (联系方式). When a field's label stands in several cells,
    all but one in a value slot are values; the label kept is the one outside any slot, else the one
    lined up with most other labels (a label column or a header row), then the field's own label
    (联系方式, not the alias 电话), then the first in reading order. A field's only label cell is a
    value when it prints an alias (电话, never the field's own label 联系方式) and is a stray among
    values (see _stray)."""
    # field key -> [(in a slot, -lined up, alias, order, cell id)]
    claims: dict[str, list[tuple[bool, int, bool, int, int]]] = {}
    strays: set[int] = set()
    order = 0
    for grid, labels in zip(grids, by_grid, strict=True):
        slots = _value_slots(grid, labels)
        cells = [cell for cell in grid.distinct() if id(cell) in labels]
        rows, cols = Counter(cell.row for cell in cells), Counter(cell.col for cell in cells)
        for cell in cells:
            entries = labels[id(cell)]
            order += 1
            if len(entries) > 1 or entries[0][1] is not None or normalise(cell.value) != label_key(cell.value):
                continue                    # '标签：', or several labels in one cell: written as labels
            spec = entries[0][0]
            alias = label_key(cell.value) != label_key(spec.label)
            claims.setdefault(spec.key, []).append(
                (id(cell) in slots, 2 - rows[cell.row] - cols[cell.col], alias, order, id(cell)))
            if alias and id(cell) in slots and _stray(grid, cell, slots[id(cell)], labels, rows, cols):
                strays.add(id(cell))
    values = set()
    for claimed in claims.values():
        if len(claimed) == 1:
            values |= {claimed[0][-1]} & strays
            continue
        label = min(claimed)
        values |= {claim[-1] for claim in claimed if claim[0] and claim is not label}
    return values


def _stray(grid: Grid, cell: Cell, owner: Cell, labels: Labels, rows: Counter[int], cols: Counter[int]) -> bool:
    """Whether a label's text is `owner`'s value although no other cell prints that label: right of
    owner, outside any line of labels, with neither of them having another value (annex and column
    layouts); or below owner in a header row, alone among the values of the row beneath."""
    if cell.col > owner.last_col:
        return (cols[cell.col] == 1 and rows[cell.row] <= 3 and not _value_below(grid, owner, labels)
                and not _value_below(grid, cell, labels)
                and ((right := _first_right(grid, cell)) is None or id(right) in labels))
    return rows[cell.row] == 1 and rows[owner.row] >= 4


def _first_right(grid: Grid, cell: Cell) -> Cell | None:
    return next((other for col in range(cell.last_col + 1, grid.max_col + 1)
                 if (other := grid.at(cell.row, col)) is not None and other.text), None)


def _value_below(grid: Grid, label: Cell, labels: Labels) -> bool:
    below = grid.at(label.last_row + 1, label.col)
    return below is not None and bool(below.text) and id(below) not in labels and not _owned(grid, below, labels)


def _value_slots(grid: Grid, labels: Labels) -> dict[int, Cell]:
    """id(cell) -> the label cell whose value slot it stands in: the first filled cell to the label's
    right, or the cell below when the first filled cell to its right is another label (a header row)."""
    slots: dict[int, Cell] = {}
    for cell in grid.distinct():
        if id(cell) not in labels or any(entry[1] for entry in labels[id(cell)]):
            continue
        right = _first_right(grid, cell)
        if right is not None:
            slots.setdefault(id(right), cell)
        below = grid.at(cell.last_row + 1, cell.col)
        if (right is None or id(right) in labels) and below is not None and below.text:
            slots.setdefault(id(below), cell)
    return slots


def _labels_in(cell: Cell, by_label: ByLabel, pattern: re.Pattern[str]) -> list[tuple[str, str | None, str, str]]:
    """[(label key, inline value or None, text before the value, text after it)] for the labels a cell
    carries. An inline value ends where, after a gap of spaces, another '标签：' begins (a Word line
    '投诉编号：        日期：2026年11月' holds no number, and keeps its 日期 when the number is written)."""
    if not isinstance(cell.value, str):
        return []
    key = label_key(cell.value)
    if key in by_label:
        return [(key, None, "", "")]
    text = cell.value
    matches = list(pattern.finditer(text))
    if not matches or text[:matches[0].start()].strip():
        return []
    entries = []
    for index, match in enumerate(matches):
        key = label_key(match.group(1))
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        segment = text[match.end():end]
        gap = NEXT_LABEL.search(segment)
        value = (segment[:gap.start()] if gap else segment).strip()
        if key in by_label:
            alone = len(matches) == 1
            entries.append((key, value or None, text[:match.end()] if alone else "",
                            segment[gap.start():] if gap and alone else ""))
    return entries


def _owned(grid: Grid, cell: Cell, labels: Labels) -> bool:
    """Whether a cell is the value of another label standing to its left in the same row."""
    for col in range(cell.col - 1, 0, -1):
        left = grid.at(cell.row, col)
        if left is None or left is cell:
            continue
        if id(left) in labels:
            return True
        if left.text:
            return False
    return False


def _value_for(grid: Grid, label: Cell, labels: Labels, spec: FieldSpec) -> tuple[object, Cell | None]:
    """(raw value, slot cell) for a label standing alone in its cell."""
    collect = getattr(spec.type, "options", None) is not None   # check boxes may span cells
    parts, slot, col = [], None, label.last_col + 1
    while col <= grid.max_col:
        cell = grid.at(label.row, col)
        if cell is None:
            col += 1
            continue
        if id(cell) in labels:
            break
        slot = slot or cell
        if cell.value is not None and str(cell.value).strip():
            if not collect:
                return cell.value, cell
            parts.append(str(cell.value))
        col = cell.last_col + 1
    if parts:
        return " ".join(parts), slot
    below = grid.at(label.last_row + 1, label.col)
    if below is not None and id(below) not in labels and not _owned(grid, below, labels):
        if below.value is not None and str(below.value).strip():
            return below.value, below
        slot = slot or below
    return None, slot
