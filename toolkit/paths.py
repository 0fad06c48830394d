"""Where the toolkit's own shipped files live (templates/ beside the package)."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(os.environ.get("TOUSU_TEMPLATES", PROJECT_ROOT / "templates"))
SAMPLES = PROJECT_ROOT / "samples"
DEFAULT_POLICY = TEMPLATES / "policy.toml"
