"""Where the toolkit's shipped files live. templates/ (the default policy, the blank forms, the
button workbook) and samples/ (the forms `tousu demo` uses) sit at the top of the repository and are
installed as the package data toolkit._templates and toolkit._samples (pyproject.toml), so an editable
and a normal install find them the same way: through importlib.resources, as directories on disk."""
import os
from importlib.resources import files
from pathlib import Path

TEMPLATES = Path(os.environ.get("TOUSU_TEMPLATES") or str(files("toolkit._templates")))
SAMPLES = Path(str(files("toolkit._samples")))
DEFAULT_POLICY = TEMPLATES / "policy.toml"


def workspace_policy(root: Path) -> Path:
    """A workspace's own policy file, which overrides DEFAULT_POLICY key by key (may be absent)."""
    return Path(root) / "policy.toml"
