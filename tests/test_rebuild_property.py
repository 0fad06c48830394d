"""Issue 10 item 6, as a property: for any sequence of submissions — intakes, later feedback versions,
refusals, identical re-sends — with rebuilds in between, the live journal equals its rebuild from the
archive, which equals the rebuild of the rebuild; and numbers never go back."""
import tempfile
from datetime import datetime
from pathlib import Path

from conftest import FEEDBACK_VALUES, INTAKE_VALUES, REVIEWED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.clock import Clock
from toolkit.forms.build import build
from toolkit.forms.kinds import FEEDBACK, INTAKE
from toolkit.process import process
from toolkit.rebuild import rebuild_journal
from toolkit.workspace import Workspace

CLOCK = Clock(datetime(2026, 11, 21, 9, 0))
FORMS = Path(tempfile.mkdtemp(prefix="tousu-property-"))


def _form(key: tuple) -> Path:
    """Forms built once and reused by every example (building is the slow part)."""
    path = FORMS / ("-".join(map(str, key)) + ".xlsx")
    if path.exists():
        return path
    kind, a, b = key
    if kind == "intake":
        values = dict(INTAKE_VALUES, customer_name=f"客户{a}", phone=f"1380000000{a}", target=f"对象{a % 2}",
                      received_at=datetime(2026, 11, 10 + a, 9, b), content=f"投诉{a}-{b}")
        return build(INTAKE, values, path)
    if kind == "feedback":
        values = dict(FEEDBACK_VALUES, number=f"TS20261100{a:02d}", customer_name=f"客户{a - 1}",
                      phone=f"1380000000{a - 1}", received_at=datetime(2026, 11, 9 + a, 9, 0), target=f"对象{(a - 1) % 2}",
                      content=None, result=f"处理结果第{b}版", feedback_date=datetime(2026, 11, 12 + a, 9), **REVIEWED)
        return build(FEEDBACK, values, path)
    path.write_bytes(f"不是表单 {a}".encode())
    return path


STEP = st.one_of(
    st.tuples(st.just("intake"), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("feedback"), st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.just("refused"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("rebuild"), st.just(0), st.just(0)),
)


def _issued(ws) -> list:
    return sorted(ws.journal.snapshot()["cases"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_live_state_equals_rebuild_equals_rebuild_of_rebuild(steps, tmp_path_factory):
    ws = Workspace.open(tmp_path_factory.mktemp("ws"))
    walk(ws, steps)
    ws.close()


def walk(ws, steps) -> None:
    """Run the steps on `ws`: numbers never go back (a rebuild included), and at the end the live journal
    equals its rebuild and the rebuild of that."""
    seen: list = []
    for step in steps:
        if step[0] == "rebuild":
            before = _issued(ws)
            rebuild_journal(ws)
            assert _issued(ws) == before
            continue
        process(_form(step), ws, CLOCK, "property")
        numbers = _issued(ws)
        assert numbers[: len(seen)] == seen[: len(numbers)] and len(numbers) >= len(seen)
        seen = numbers
    live = ws.journal.snapshot()
    rebuild_journal(ws)
    once = ws.journal.snapshot()
    rebuild_journal(ws)
    assert live == once == ws.journal.snapshot()
