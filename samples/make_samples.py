"""Writes the example forms in samples/ (python samples/make_samples.py): valid intakes for each
channel class in .xlsx and .docx, a legacy .xls, a messy one, defects, and refused examples."""
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from toolkit.forms.build import build
from toolkit.forms.kinds import CALLBACK, EXTENSION, FEEDBACK, INTAKE

HERE = Path(__file__).resolve().parent
BASE = dict(customer_name="陈美华", address="三明市梅列区列东街 28 号 3 幢 502 室", phone=13805931234,
            target="客户创值赋能群 抄表班", receiver="林晓燕", severity="非重大",
            content="客户反映本月燃气费比上月高出一倍，抄表员未入户抄表，疑似估抄。",
            demand="重新核实读数，多收的气费退还。")


def valid_forms() -> None:
    build(INTAKE, dict(BASE, received_at=datetime(2026, 11, 20, 15, 30), channel="客服热线"),
          HERE / "01-自有渠道-客服热线.xlsx")
    build(INTAKE, dict(BASE, customer_name="王建国", phone="0593-8231456", address="三明市三元区新市北路 9 号",
                       received_at=datetime(2026, 11, 18, 9, 5), channel="XX能源服务质量监督热线批转",
                       severity="重大", major_rules=(2,), unit="管网运营赋能群",
                       content="维修人员上门时与客户发生争执并辱骂客户。", demand="公开道歉并处理当事人。"),
          HERE / "02-监督热线批转-重大.docx")
    build(INTAKE, dict(BASE, customer_name="刘芳", phone=15959312345, received_at=datetime(2026, 11, 16, 10, 0),
                       channel="市政府 12345 热线批转", required_date=datetime(2026, 11, 21),
                       content="小区燃气管道改造后路面未恢复，影响出行。", demand="尽快恢复路面。"),
          HERE / "03-政府批转-12345.xlsx")
    build(INTAKE, dict(BASE, customer_name="黄志强", phone=13705930001, received_at=datetime(2026, 11, 19, 16, 45),
                       channel="营业厅", content="营业厅窗口办理过户时要求重复提交材料。", demand="一次办结。"),
          HERE / "04-营业厅-列式版面.docx", layout="column")


def messy_form() -> None:
    """What a clerk's own sheet looks like: labels moved, spaced and with colons, merged value
    cells, full-width digits, a phone typed as a number, a Chinese date, ticks in a dropdown."""
    book = openpyxl.Workbook()
    ws = book.active
    ws["B2"] = "附件1  客户投诉受理记录单"
    ws["B2"].font = Font(size=16, bold=True)
    ws.merge_cells("B2:G2")
    rows = [("客 户 姓 名：", "郑小梅", "联系电话", 13959300088),
            ("客户地址", "三明市沙县区府西路１２号", "投诉对象：", "建设交付赋能群 施工队"),
            ("受理时间：", "２０２６年１１月１７日１４时３０分", "受理渠道", "微信公众号"),
            ("受 理 人", "张敏", "投诉类别", "非重大投诉")]
    for r, (l1, v1, l2, v2) in enumerate(rows, start=4):
        ws.cell(r, 2, l1)
        ws.cell(r, 3, v1)
        ws.merge_cells(start_row=r, start_column=3, end_row=r, end_column=4)
        ws.cell(r, 5, l2)
        ws.cell(r, 6, v2)
        ws.merge_cells(start_row=r, start_column=6, end_row=r, end_column=7)
    ws["B9"] = "投诉内容"
    ws["B10"] = "施工后门前绿化带未恢复，已过去两周无人处理。"
    ws.merge_cells("B10:G11")
    ws["B12"] = "客户要求：尽快恢复绿化"
    ws["B13"] = "投诉编号"
    book.save(HERE / "05-杂乱填写-字段移位.xlsx")


def defect_and_refused_forms() -> None:
    build(INTAKE, dict(BASE, customer_name="", phone="12345", severity=None, unit="客服部",
                       received_at=datetime(2026, 11, 21, 8, 40), channel="上门反映"),
          HERE / "06-有填写缺陷-仍受理.xlsx")
    build(INTAKE, dict(BASE, received_at=datetime(2026, 11, 20, 11, 0), channel="客服热线", content=None),
          HERE / "07-拒收-缺投诉内容.xlsx")
    build(INTAKE, dict(BASE, received_at=datetime(2099, 1, 5, 9, 0), channel="客服热线"),
          HERE / "08-拒收-受理时间在未来.docx")
    build(INTAKE, dict(BASE, number="TS2026/../../etc", received_at=datetime(2026, 11, 20, 9, 0),
                       channel="客服热线"), HERE / "09-拒收-编号非法.xlsx")
    book = openpyxl.Workbook()
    book.active["A1"] = "十一月 燃气用量统计"
    book.active["A2"] = 123
    book.save(HERE / "10-拒收-不是表单.xlsx")


def legacy_form() -> None:
    """An intake kept as an Excel 97-2003 workbook (made by LibreOffice, which must be installed): read
    with python-calamine, archived as received beside its numbered .xlsx twin."""
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        values = dict(BASE, customer_name="吴丽娟", phone="0593-8225566", received_at=datetime(2026, 11, 19, 10, 20),
                      channel="营业厅", content="营业厅排队叫号系统故障，等候一个多小时。", demand="改进叫号系统。")
        form = build(INTAKE, values, folder / "intake.xlsx")
        subprocess.run(["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                        "--convert-to", "xls:MS Excel 97", "--outdir", str(folder), str(form)],
                       check=True, timeout=120, capture_output=True)
        shutil.copyfile(folder / "intake.xls", HERE / "11-旧版格式-Excel97.xls")


def lifecycle_forms() -> None:
    """Follow-ups of sample 01 (TS2026110001 in a fresh workspace) and 03 (TS2026110003)."""
    feedback = dict(BASE, number="TS2026110001", phone="13805931234", received_at=datetime(2026, 11, 20, 15, 30),
                    channel="客服热线", business="抄表收费", business_step="抄表", responsibility="责任",
                    unit="客户创值赋能群", person="张强", investigator="李娜", feedback_date=datetime(2026, 11, 21, 10),
                    situation="11月18日抄表员张强未入户，按上月读数估抄。", solution="重新入户抄表，按实际读数结算。",
                    result="已重新抄表，退还多收气费 86 元。", completion="已办结", cause="抄表员未按规定入户抄表。",
                    prevention="抄表照片上传系统，班长每周抽查。", first_review="情况属实", first_signer="王敏",
                    final_review="同意，判定为责任投诉", final_signer="赵刚")
    build(FEEDBACK, feedback, HERE / "12-反馈单-TS2026110001.xlsx")
    build(CALLBACK, dict(number="TS2026110001", callback_date=datetime(2026, 11, 22, 9, 30), caller="周洁",
                         method="电话回访", evaluation="满意", notes="客户确认已收到退费。"),
          HERE / "13-回访记录单-TS2026110001.docx")
    build(EXTENSION, dict(number="TS2026110003", unit="建设交付赋能群", extend_to=datetime(2026, 11, 28),
                          reason="路面恢复需等待市政审批。", approval="同意"), HERE / "14-延期申请单-TS2026110003.xlsx")
    build(FEEDBACK, dict(feedback, cause=None), HERE / "15-拒收-反馈单缺原因分析.xlsx")


if __name__ == "__main__":
    valid_forms()
    messy_form()
    defect_and_refused_forms()
    legacy_form()
    lifecycle_forms()
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))
