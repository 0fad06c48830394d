"""The rebuild property of tests/test_rebuild_property.py on the PostgreSQL journal, each example an office of
its own on one server: the live journal equals its rebuild from the archive, which equals the rebuild of
the rebuild; numbers never go back; and no office's rebuild touches another office (a witness office's
journal stays as it was through every example)."""
from datetime import datetime
from itertools import count

import pytest
from conftest import INTAKE_VALUES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg import database
from test_rebuild_property import CLOCK, STEP, walk

from toolkit.forms.build import build
from toolkit.forms.kinds import INTAKE
from toolkit.process import process
from toolkit.workspace import Workspace

OFFICES = count(1)


def _office(root, url: str, code: str) -> Workspace:
    root.mkdir(parents=True)
    (root / "policy.toml").write_text(f'[journal]\nurl = "{url}"\n\n[office]\ncode = "{code}"\n', encoding="utf-8")
    return Workspace.open(root)


@pytest.fixture(scope="module")
def server_and_witness(tmp_path_factory):
    url = database()
    witness = _office(tmp_path_factory.mktemp("witness") / "ws", url, "W")
    form = build(INTAKE, dict(INTAKE_VALUES, received_at=datetime(2026, 11, 2, 9)), witness.root.parent / "w.xlsx")
    assert process(form, witness, CLOCK, "property").number == "TS2026110001"
    yield url, witness, witness.journal.snapshot()
    witness.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=8))
def test_each_office_rebuilds_to_itself_and_leaves_the_others_alone(steps, server_and_witness, tmp_path_factory,
                                                                    monkeypatch):
    monkeypatch.delenv("TOUSU_JOURNAL", raising=False)
    url, witness, before = server_and_witness
    ws = _office(tmp_path_factory.mktemp("ws") / "ws", url, f"P{next(OFFICES)}")
    walk(ws, steps)
    assert witness.journal.snapshot() == before
    ws.close()
