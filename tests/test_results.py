"""Every command returns one result object from the library (toolkit/commands.py) and the CLI renders it
once: the JSON the CLI prints is the result's own `json_lines()`, the text its `lines()`, the exit code its
`exit_code` — so a figure cannot differ between the text and the JSON of a command."""
from datetime import datetime

from conftest import FEEDBACK_VALUES, NOW, REVIEWED

from toolkit import commands
from toolkit.clock import Clock
from toolkit.forms.kinds import FEEDBACK
from toolkit.results import ReceiptsResult, Result
from toolkit.workspace import Workspace


def test_cli_json_is_the_library_result(tousu, workspace, intake, form, monkeypatch):
    monkeypatch.setenv("TOUSU_NOW", "2026-11-30T09:00:00")
    assert tousu("process", str(intake()))[0] == 0
    late = dict(FEEDBACK_VALUES, **REVIEWED, feedback_date=datetime(2026, 11, 24, 10, 0))
    assert tousu("process", str(form(FEEDBACK, late)))[0] == 0
    clock = Clock(datetime(2026, 11, 30, 9, 0))
    ws = Workspace.open(workspace)
    try:
        for args, result in ((("score", "--month", "2026-11"), commands.score(ws, "2026-11", clock)),
                             (("overdue", "--as-of", "2026-11-30"), commands.overdue(ws, "2026-11-30", False, clock)),
                             (("report", "--month", "2026-11"), commands.report(ws, "2026-11", clock)),
                             (("verify",), commands.verify(ws, clock))):
            assert isinstance(result, Result)
            code, lines, _ = tousu(*args)
            assert (code, lines) == (result.exit_code, result.json_lines()), args
            code, _, text = tousu(*args, json_out=False)
            assert text.strip() == "\n".join(result.lines()).strip(), args
        # the late feedback (due 2026-11-23 23:59:59 for 自有渠道/非重大 investigation, 3 days) is in both renderings
        unit = next(s for s in commands.score(ws, "2026-11", clock).to_json()["units"] if s["unit"] == "客户创值赋能群")
        assert unit["late"] == 1
    finally:
        ws.close()


def test_a_refused_file_makes_the_result_exit_1(tousu, workspace, tmp_path):
    bad = tmp_path / "note.xlsx"
    bad.write_bytes(b"not a workbook")
    result = commands.process(Workspace.open(workspace), [bad], Clock(datetime.fromisoformat(NOW)))
    assert isinstance(result, ReceiptsResult) and result.exit_code == 1
    assert tousu("process", str(bad))[0] == 1


def test_a_date_that_cannot_be_read_is_a_usage_error(tousu):
    code, _, output = tousu("due", "--channel", "客服热线", "--severity", "非重大", "--received", "上周某天",
                              json_out=False)
    assert code == 2 and "用法错误：受理时间「上周某天」无法识别" in output and "Traceback" not in output
    code, _, output = tousu("overdue", "--as-of", "月底", json_out=False)
    assert code == 2 and "时间「月底」无法识别" in output
