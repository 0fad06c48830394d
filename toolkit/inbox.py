"""The inbox side of filing: which files wait in <ws>/inbox/, and where a processed one ends — its
case folder (accepted or duplicate) or rejected/ beside a 错误说明 — with the clerk's receipt in
receipts/<name>.回执.txt."""
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

from .receipt import Receipt
from .workspace import is_lock_or_partial

SAFE_NAME_BYTES = 180      # leaves room for ".错误说明.txt" / ".回执.json" within the 255-byte name limit


def pending(ws) -> list[Path]:
    """Files directly in inbox/ that are not lock or partial files, oldest first."""
    files = [p for p in ws.inbox.iterdir() if p.is_file() and not is_lock_or_partial(p.name)]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def safe_name(name: str) -> str:
    """A file name that stays inside its folder (no separators, no control characters) and, with the
    receipt's suffixes, within the file system's name length."""
    cleaned = "".join("_" if ch in '/\\:*?"<>|\0' or ord(ch) < 32 else ch for ch in name).strip(" .")
    stem, suffix = os.path.splitext(cleaned)
    while len((stem + suffix).encode("utf-8")) > SAFE_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem + suffix) or "unnamed"


def _free(folder: Path, name: str, now: datetime) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem, suffix = os.path.splitext(name)
    return folder / f"{stem}-{now:%Y%m%d%H%M%S}-{os.getpid()}{suffix}"


def file_away(ws, path: Path, receipt: Receipt, now: datetime) -> Path:
    """Move the inbox file to where its receipt says it belongs; write the clerk's receipt."""
    name = safe_name(path.name)
    if receipt.status == "refused":
        target = _free(ws.rejected, name, now)
        explanation = target.with_name(target.name + ".错误说明.txt")
        explanation.write_text(receipt.describe() + "\n", encoding="utf-8")
        shutil.move(path, target)
    elif receipt.status == "duplicate" and receipt.resumed:   # finishing a file interrupted after its commit
        path.unlink()
        target = ws.root / receipt.archived
    elif receipt.status == "duplicate":
        folder = (ws.root / receipt.archived).parent / "重复提交"
        folder.mkdir(parents=True, exist_ok=True)
        target = _free(folder, name, now)
        shutil.move(path, target)
    else:
        path.unlink()
        target = ws.root / receipt.archived
    (ws.receipts / f"{name}.回执.txt").write_text(receipt.describe() + "\n", encoding="utf-8")
    machine = {**receipt.to_json(), "number_cell": receipt.number_cell, "case_status": receipt.case_status}
    (ws.receipts / f"{name}.回执.json").write_text(json.dumps(machine, ensure_ascii=False), encoding="utf-8")
    return target
