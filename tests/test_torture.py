"""The short torture run: watcher + 3 CLI processes, the watcher killed -9 at random and restarted, a
rebuild beside it, the journal deleted midway, a re-saved file, a same-name pair and a link among the
drops. The run checks its own invariants (see toolkit.torture) and lists every breach."""
import pytest

from toolkit.torture import run

pytestmark = pytest.mark.slow                  # runs the installed `tousu` as a subprocess


def test_short_torture_run_loses_nothing_and_numbers_once(tmp_path):
    counts = run(tmp_path, drops=120, kills=4)
    assert counts["problems"] == []
    assert counts["kills"] == 4 and counts["rebuilds"] == 1 and counts["journal_deleted"] == 1
    assert counts["cli"] == 36 and counts["inputs"] == 123
    assert counts["accepted"] >= 120 and counts["refused"] == 2
