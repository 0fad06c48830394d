"""The short torture run: watcher + 3 CLI processes, the watcher killed -9 at random and restarted."""
from toolkit.torture import run


def test_short_torture_run_loses_nothing_and_numbers_once(tmp_path):
    counts = run(tmp_path, drops=120, kills=3)
    assert counts["problems"] == []
    assert counts["numbers"] == counts["accepted"] == 120 and counts["rejected"] == 2
    assert counts["inputs"] == 122
