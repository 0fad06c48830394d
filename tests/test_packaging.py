"""A normal install (`pip install .`, a wheel) carries the policy, the blank forms, the button workbook
and the samples inside the package, and reads them from there, not from a checkout."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow                  # runs the installed `tousu` as a subprocess

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {"templates": "toolkit/_templates", "samples": "toolkit/_samples"}
DATA_SUFFIXES = {".toml", ".xlsx", ".xlsm", ".docx", ".xls"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources (never from a stale build/ of the checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "watch",
                                                                "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(source)],
                   check=True, capture_output=True, timeout=240)
    return next((base / "dist").glob("tousu-*.whl"))


def test_the_wheel_ships_policy_templates_workbook_and_samples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"toolkit/_templates/policy.toml", "toolkit/_templates/tousu_excel.xlsm",
            "toolkit/_templates/tousu_excel.py", "toolkit/_templates/附件4 投诉处理督办通知单.docx",
            "toolkit/_samples/01-自有渠道-客服热线.xlsx"} <= names
    for folder, package in SHIPPED.items():
        files = [p for p in (ROOT / folder).iterdir() if p.suffix in DATA_SUFFIXES]
        assert files and {f"{package}/{p.name}" for p in files} <= names


def test_every_module_of_the_package_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "toolkit").rglob("*.py")}
    assert modules <= names


def test_the_unpacked_wheel_reads_its_own_policy_and_samples(wheel, tmp_path):
    """The wheel alone on the path (no site-packages, no checkout): the default policy loads."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = ("from toolkit.paths import DEFAULT_POLICY, SAMPLES; from toolkit.policy import load_policy; "
            "print(DEFAULT_POLICY); print(SAMPLES); print(load_policy().number_pattern)")
    env = {k: v for k, v in os.environ.items() if k != "TOUSU_TEMPLATES"}
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env={**env, "PYTHONPATH": str(site)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    policy, samples, pattern = done.stdout.splitlines()
    assert Path(policy) == site / "toolkit" / "_templates" / "policy.toml"
    assert Path(samples) == site / "toolkit" / "_samples" and pattern == "TS{YYYY}{MM}{seq:04d}"
