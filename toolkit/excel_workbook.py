"""Writes templates/tousu_excel.xlsm, the workbook the Excel buttons live in (python -m
toolkit.excel_workbook, on a machine with the `excel` extra). It starts from the workbook
`xlwings quickstart --standalone` writes (its VBA calls RunPython "import tousu_excel;
tousu_excel.main()"), then lays out the five blank forms and the 台帐/督办/考核 sheets that
toolkit.xl.main dispatches on."""
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from .forms.build import fill_sheet
from .forms.kinds import KINDS
from .paths import TEMPLATES

NAME = "tousu_excel"
ACTION_NOTES = {"台帐": "在本表点击 xlwings → Run main：按归档重写全部投诉管理台帐。",
                "督办": "在本表点击 xlwings → Run main：生成今日超时投诉的督办通知单（不重复生成）。",
                "考核": "在本表点击 xlwings → Run main：显示本月各责任部门考核扣分及依据。"}


def write_excel_workbook(folder: Path = TEMPLATES) -> Path:
    with tempfile.TemporaryDirectory() as temp:
        subprocess.run(["xlwings", "quickstart", NAME, "--standalone"], cwd=temp, check=True, capture_output=True)
        book = openpyxl.load_workbook(Path(temp) / NAME / f"{NAME}.xlsm", keep_vba=True)
    first = book.worksheets[0]
    fill_sheet(first, KINDS[0], {})
    for kind in KINDS[1:]:
        fill_sheet(book.create_sheet(), kind, {})
    for title, note in ACTION_NOTES.items():
        book.create_sheet(title)["A1"] = note
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
    target = folder / f"{NAME}.xlsm"
    book.save(target)
    return target


if __name__ == "__main__":
    if shutil.which("xlwings") is None:
        raise SystemExit("需要先安装 xlwings：pip install -e '.[excel]'")
    print(write_excel_workbook())
