"""Writes the button workbook tousu_excel.xlsm (python -m toolkit.excel_workbook -o FILE, on a machine
with the `excel` extra). It starts from the workbook `xlwings quickstart --standalone` writes — its VBA
module holds the one macro SampleCall, RunPython "import tousu_excel; tousu_excel.main()" — lays out
the five blank forms and the 台帐/督办/考核 sheets that toolkit.xl.main dispatches on, and puts a
button on each of them that runs SampleCall: main() submits a form sheet and runs the action of the
others, so one macro serves every button. openpyxl cannot write buttons: they are added to the saved
package as the VML form controls Excel itself writes (a shape with <x:FmlaMacro>)."""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName

from .forms.build import FONT, fill_sheet
from .forms.kinds import KINDS

NAME = "tousu_excel"
MACRO = "SampleCall"                    # the macro of the quickstart module
FORM_BUTTON = "提交本表"
ACTIONS = {"台帐": ("更新台帐", "点击「更新台帐」：按归档重写全部投诉管理台帐。"),
           "督办": ("生成督办单", "点击「生成督办单」：生成今日超时投诉的督办通知单（不重复生成）。"),
           "考核": ("显示本月考核", "点击「显示本月考核」：列出本月各责任部门考核扣分及依据。")}
BUTTON_COLUMNS, BUTTON_ROWS = 2, 2      # a button covers 2 columns x 2 rows, right of the form or note
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
REL_VML = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
# Children of <worksheet> that must follow <legacyDrawing> (ECMA-376 CT_Worksheet order).
AFTER_LEGACY = re.compile(
    r"<(legacyDrawingHF|drawingHF|picture|oleObjects|controls|webPublishItems|tableParts|extLst)\b")


def write_excel_workbook(target: Path) -> Path:
    with tempfile.TemporaryDirectory() as temp:
        subprocess.run(["xlwings", "quickstart", NAME, "--standalone"], cwd=temp, check=True, capture_output=True)
        book = openpyxl.load_workbook(Path(temp) / NAME / f"{NAME}.xlsm", keep_vba=True)
    buttons = {}                                    # sheet -> (caption, 0-based column and row of the button)
    for kind in KINDS:
        sheet = book.worksheets[0] if kind is KINDS[0] else book.create_sheet()
        fill_sheet(sheet, kind, {})
        buttons[sheet.title] = (FORM_BUTTON, sheet.max_column + 1, 1)
    for title, (caption, note) in ACTIONS.items():
        sheet = book.create_sheet(title)
        sheet["A1"] = note
        buttons[title] = (caption, 7, 0)            # column H: right of what the action writes (A–E)
    settings = book.create_sheet("设置")
    settings["A1"], settings["B1"] = "工作区（共享文件夹）路径", ""
    settings["A2"] = "留空则使用环境变量 TOUSU_WORKSPACE；例：\\\\服务器\\投诉共享 或 D:\\投诉共享"
    book.defined_names["TOUSU_WORKSPACE"] = DefinedName("TOUSU_WORKSPACE", attr_text="'设置'!$B$1")
    conf = book["_xlwings.conf"]
    for row in conf.iter_rows():
        if row[0].value == "UDF Modules":
            row[1].value = NAME
    book.move_sheet(conf, offset=len(book.worksheets))
    book.active = 0
    vml = {title: button_vml(book[title], index, caption, col, row)
           for index, (title, (caption, col, row)) in enumerate(buttons.items(), start=1)}
    book.save(target)
    add_legacy_drawings(target, vml)
    return target


def _points(sheet, col: int, row: int) -> tuple[float, float]:
    """Top-left corner of a 0-based cell in points, from the sheet's column widths and row heights."""
    columns, rows = sheet.column_dimensions, sheet.row_dimensions     # .get: reading must not add entries
    left = sum((getattr(columns.get(get_column_letter(c + 1)), "width", None) or 8.43) * 5.25 + 3.75
               for c in range(col))
    top = sum(getattr(rows.get(r + 1), "height", None) or 15 for r in range(row))
    return left, top


def button_vml(sheet, index: int, caption: str, col: int, row: int) -> str:
    """One form-control button (Excel's own VML, as XlsxWriter's insert_button writes it) running MACRO."""
    left, top = _points(sheet, col, row)
    right, bottom = _points(sheet, col + BUTTON_COLUMNS, row + BUTTON_ROWS)
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{index}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t201" coordsize="21600,21600" o:spt="201" path="m,l,21600r21600,l21600,xe">'
        '<v:stroke joinstyle="miter"/><v:path shadowok="f" o:extrusionok="f" strokeok="f" fillok="f" '
        'o:connecttype="rect"/><o:lock v:ext="edit" shapetype="t"/></v:shapetype>'
        f'<v:shape id="_x0000_s{1024 * index + 1}" type="#_x0000_t201" style="position:absolute;'
        f'margin-left:{left:.2f}pt;margin-top:{top:.2f}pt;width:{right - left:.2f}pt;height:{bottom - top:.2f}pt;'
        'z-index:1;mso-wrap-style:tight" o:button="t" fillcolor="buttonFace [67]" strokecolor="windowText [64]" '
        'o:insetmode="auto"><v:fill color2="buttonFace [67]" o:detectmouseclick="t"/>'
        '<o:lock v:ext="edit" rotation="t"/><v:textbox style="mso-direction-alt:auto" o:singleclick="f">'
        f'<div style="text-align:center"><font face="{FONT}" size="240" color="#000000">{caption}</font></div>'
        '</v:textbox><x:ClientData ObjectType="Button">'
        f'<x:Anchor>{col}, 0, {row}, 0, {col + BUTTON_COLUMNS}, 0, {row + BUTTON_ROWS}, 0</x:Anchor>'
        '<x:PrintObject>False</x:PrintObject><x:AutoFill>False</x:AutoFill>'
        f'<x:FmlaMacro>[0]!{MACRO}</x:FmlaMacro><x:TextHAlign>Center</x:TextHAlign>'
        '<x:TextVAlign>Center</x:TextVAlign></x:ClientData></v:shape></xml>')


def _sheet_parts(parts: dict) -> dict:
    """Sheet name -> its part name (xl/worksheets/sheetN.xml), read from the workbook and its rels."""
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.findall("p:Relationship", NS)}
    found = {}
    for sheet in ElementTree.fromstring(parts["xl/workbook.xml"]).findall("m:sheets/m:sheet", NS):
        target = targets[sheet.get(f"{{{NS['r']}}}id")]
        found[sheet.get("name")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return found


def add_legacy_drawings(path: Path, vml: dict) -> None:
    """Add one VML drawing per sheet (sheet name -> VML text) to the saved package, in place."""
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    sheets = _sheet_parts(parts)
    for index, (title, drawing) in enumerate(vml.items(), start=1):
        sheet_part = PurePosixPath(sheets[title])
        drawing_part = f"xl/drawings/vmlDrawing{index}.vml"
        parts[drawing_part] = drawing.encode("utf-8")
        rels_part = str(sheet_part.parent / "_rels" / f"{sheet_part.name}.rels")
        rels = parts.get(rels_part, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                                    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                    b'relationships"></Relationships>').decode("utf-8")
        rel = f'<Relationship Id="rIdTousuButton" Type="{REL_VML}" Target="/{drawing_part}"/>'
        parts[rels_part] = rels.replace("</Relationships>", rel + "</Relationships>").encode("utf-8")
        xml = parts[str(sheet_part)].decode("utf-8")
        legacy = f'<legacyDrawing xmlns:r="{NS["r"]}" r:id="rIdTousuButton"/>'
        later = AFTER_LEGACY.search(xml)
        at = later.start() if later else xml.rindex("</worksheet>")
        parts[str(sheet_part)] = (xml[:at] + legacy + xml[at:]).encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    if 'Extension="vml"' not in types:
        types = types.replace("<Default ", f'<Default Extension="vml" ContentType="{VML_TYPE}"/><Default ', 1)
    parts["[Content_Types].xml"] = types.encode("utf-8")
    temp = path.with_name(f".{path.name}.writing")
    with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    temp.replace(path)


def pinned_xlwings() -> str | None:
    """The xlwings version the `excel` extra pins (pyproject.toml), from the installed metadata."""
    for requirement in requires("tousu") or []:
        match = re.match(r"xlwings\s*==\s*([\w.]+)\s*;\s*extra\s*==\s*.excel.", requirement)
        if match:
            return match.group(1)
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.excel_workbook",
        description="生成按钮工作簿 tousu_excel.xlsm：五张空白表单（按钮「提交本表」）与台帐/督办/考核页"
                    "（按钮「更新台帐」「生成督办单」「显示本月考核」）。需要 pip install -e '.[excel]'。"
                    "例：python -m toolkit.excel_workbook -o templates/tousu_excel.xlsm --force")
    parser.add_argument("-o", "--output", type=Path, default=Path(f"{NAME}.xlsm"),
                        help="输出文件（默认：当前文件夹下的 tousu_excel.xlsm）")
    parser.add_argument("--force", action="store_true", help="输出文件已存在时覆盖")
    args = parser.parse_args(argv)
    if args.output.suffix.lower() != ".xlsm":
        parser.error("输出文件须以 .xlsm 结尾（带宏的工作簿）。")
    if args.output.exists() and not args.force:
        parser.error(f"{args.output} 已存在；确认要覆盖请加 --force。")
    if shutil.which("xlwings") is None:
        parser.error("需要先安装 xlwings：pip install -e '.[excel]'")
    try:
        installed, pinned = version("xlwings"), pinned_xlwings()
    except PackageNotFoundError:
        parser.error("需要先安装 xlwings 与本工具：pip install -e '.[excel]'")
    if installed != pinned:
        parser.error(f"已安装 xlwings {installed}，而 pyproject.toml 的 excel 依赖要求 {pinned}："
                     f"工作簿的 VBA 会指向 xlwings64-{installed}.dll，与用户安装的版本不符。"
                     f"请先 pip install -e '.[excel]'。")
    print(write_excel_workbook(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
