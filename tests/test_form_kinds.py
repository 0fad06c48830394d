"""A form kind declares everything about itself — its fields, whether it opens a case, which field dates it,
the step it takes in the case replay and the check it must pass against its case. A sixth kind is one
declaration: here a 补充材料单 (supplementary material) that files with its case and changes nothing."""
from datetime import datetime

from conftest import INTAKE_VALUES

from toolkit import process
from toolkit.forms import kinds
from toolkit.forms.build import build
from toolkit.forms.kinds import FieldSpec, FormKind, number_well_formed
from toolkit.forms.values import DateTime, Text

MATERIAL = FormKind(
    key="material", name="补充材料单", title="投诉补充材料单", titles=("投诉补充材料单", "补充材料单"),
    dated="submitted_at",
    fields=(FieldSpec("number", "投诉编号", ("编号",), kinds.ComplaintNumber(), "error"),
            FieldSpec("submitted_at", "提交日期", (), DateTime(), "error"),
            FieldSpec("material", "材料说明", (), Text(), "error", long=True)),
    rules=(number_well_formed,))


def test_a_sixth_kind_is_one_declaration(tousu, workspace, tmp_path, monkeypatch):
    monkeypatch.setattr(process, "KINDS", (*kinds.KINDS, MATERIAL))
    monkeypatch.setitem(kinds.KIND_BY_KEY, "material", MATERIAL)
    intake = build(kinds.INTAKE, INTAKE_VALUES, tmp_path / "intake.xlsx")
    code, lines, _ = tousu("process", intake)
    assert code == 0
    before = lines[0]
    material = build(MATERIAL, {"number": "TS2026110001", "submitted_at": datetime(2026, 11, 21, 8, 0),
                                "material": "客户补充提供上月缴费凭证照片两张。"}, tmp_path / "material.xlsx")
    code, lines, _ = tousu("process", material)
    assert code == 0, lines
    receipt = lines[0]
    assert (receipt["status"], receipt["form"], receipt["number"]) == ("accepted", "material", "TS2026110001")
    assert list(workspace.glob("archive/2026/11/TS2026110001/TS2026110001-补充材料单-v1.xlsx"))
    # the case replay takes no step for it: severity and deadlines are the intake's
    assert (receipt["severity"], receipt["deadlines"]) == (before["severity"], before["deadlines"])
    assert receipt["deadlines"]["investigation"] == "2026-11-23T23:59:59"      # 11-20 + 3 days (自有渠道, 非重大)
