"""The inbox side of filing. The watcher first *claims* a file — an atomic move out of inbox/ into
<ws>/.tousu-claims/<submission id>/<name> — so a file re-saved under the same name afterwards is a new
submission, never deleted unread, and a crash leaves the claim to be finished on restart. A processed
claim ends in its case folder (accepted; a duplicate in the case's 重复提交/) or in rejected/ beside
its 错误说明; the clerk's receipt is written first, one per submission, never overwritten. Links and
other special files are never followed: they are answered in place."""
import json
import os
import shutil
import stat
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from glob import escape as glob_escape
from pathlib import Path

from .files import printable, write_atomically
from .process import new_submission_id
from .receipt import Receipt
from .workspace import is_lock_or_partial

SAFE_NAME_BYTES = 180      # leaves room for ".<编号>.<id>.回执.json" / ".错误说明.txt" within 255 bytes
HELD = "held.json"


def _entries(folder: Path):
    try:
        with os.scandir(folder) as found:
            return list(found)
    except FileNotFoundError:
        return []


def pending(ws) -> list[Path]:
    """Regular files directly in inbox/ that are not lock or partial files, oldest first."""
    files = []
    for entry in _entries(ws.inbox):
        if is_lock_or_partial(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            files.append((entry.stat(follow_symlinks=False).st_mtime, entry.name, Path(entry.path)))
        except OSError:
            continue                                  # vanished between listing and stat
    return [path for _, _, path in sorted(files)]


def special_files(ws) -> list[Path]:
    """Links, pipes, sockets and devices directly in inbox/: never opened, never moved."""
    found = []
    for entry in _entries(ws.inbox):
        if entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False):
            continue
        found.append(Path(entry.path))
    return sorted(found)


def in_subfolders(ws, limit: int = 50) -> list[str]:
    """Files clerks put in sub-folders of inbox/ (not processed: only files directly in inbox/ are)."""
    found = []
    for entry in _entries(ws.inbox):
        if entry.is_dir(follow_symlinks=False):
            for root, _, names in os.walk(entry.path):
                found += [printable(os.path.relpath(os.path.join(root, n), ws.inbox)) for n in names]
                if len(found) >= limit:
                    return found[:limit]
    return found


def safe_name(name: str) -> str:
    """A file name that stays inside its folder (no separators, no control characters), valid UTF-8, and,
    with the receipt's suffixes, within the file system's name length."""
    cleaned = "".join("_" if ch in '/\\:*?"<>|\0' or ord(ch) < 32 else ch for ch in printable(name)).strip(" .")
    stem, suffix = os.path.splitext(cleaned)
    if len(suffix.encode("utf-8")) > 16:
        stem, suffix = cleaned, ""
    while len((stem + suffix).encode("utf-8")) > SAFE_NAME_BYTES and stem:
        stem = stem[:-1]
    return (stem + suffix) or "unnamed"


# ------------------------------------------------------------------ claims
@dataclass(frozen=True)
class Claim:
    id: str                   # the submission id
    path: Path                # <ws>/.tousu-claims/<id>/<original name>

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def arrived_at(self) -> datetime:
        return datetime.strptime(self.id[:14], "%Y%m%d%H%M%S")


def claim(ws, path: Path, now: datetime) -> Claim:
    """Take a file out of the inbox (one rename); OSError when it vanished or is held open."""
    submission = new_submission_id(now)
    folder = ws.claims / submission
    folder.mkdir(parents=True)
    try:
        os.rename(path, folder / path.name)
    except OSError:
        folder.rmdir()
        raise
    return Claim(submission, folder / path.name)


def leftover_claims(ws) -> list[Claim]:
    """Claims a crash left unfinished, oldest first; empty claim folders are removed."""
    found = []
    for entry in sorted(_entries(ws.claims), key=lambda e: e.name):
        files = [Path(e.path) for e in _entries(Path(entry.path))]
        if not files:
            with suppress(OSError):
                os.rmdir(entry.path)
            continue
        found.append(Claim(entry.name, files[0]))
    return found


def _free(folder: Path, name: str, submission: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem, suffix = os.path.splitext(name)
    return folder / f"{stem}-{submission}{suffix}"


def receipt_paths(ws, name: str, receipt: Receipt) -> tuple[Path, Path]:
    """receipts/<name>.<编号>.<id>.回执.txt/.json (refused: <name>.<id>.…): one pair per submission."""
    short = (receipt.submission or "").rsplit("-", 1)[-1]
    middle = ".".join(part for part in (receipt.number if receipt.status != "refused" else None, short) if part)
    stem = ws.receipts / f"{name}.{middle}.回执"
    return stem.with_name(stem.name + ".txt"), stem.with_name(stem.name + ".json")


def find_receipt(receipts: Path, name: str) -> Path | None:
    """The machine-readable receipt of the file dropped as `name` (a name used once, as the Excel side does)."""
    found = sorted(receipts.glob(f"{glob_escape(safe_name(name))}.*回执.json"))
    return found[-1] if found else None


def write_receipt(ws, name: str, receipt: Receipt) -> Path:
    text, machine = receipt_paths(ws, name, receipt)
    write_atomically(text, (receipt.describe() + "\n").encode("utf-8"))
    payload = {**receipt.to_json(), "number_cell": receipt.number_cell, "case_status": receipt.case_status,
               "submission": receipt.submission}
    write_atomically(machine, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    return text


def file_away(ws, taken: Claim, receipt: Receipt) -> Path:
    """Write the clerk's receipt, then move the claimed file to where the receipt says it belongs."""
    name = safe_name(taken.name)
    write_receipt(ws, name, receipt)
    if receipt.status == "refused":
        target = _free(ws.rejected, name, taken.id)
        write_atomically(target.with_name(target.name + ".错误说明.txt"), (receipt.describe() + "\n").encode("utf-8"))
        shutil.move(taken.path, target)
    elif receipt.resumed:                                     # finishing a file interrupted after its commit
        taken.path.unlink()
        target = ws.root / receipt.archived
    elif receipt.status == "duplicate":
        folder = (ws.root / receipt.archived).parent / "重复提交"
        folder.mkdir(parents=True, exist_ok=True)
        target = _free(folder, name, taken.id)
        shutil.move(taken.path, target)
    else:
        taken.path.unlink()
        target = ws.root / receipt.archived
    taken.path.parent.rmdir()
    return target


# ------------------------------------------------------------------ files the watcher could not move
def read_held(ws) -> dict:
    """{inbox name: {"reason", "at"}} of files left in place (links, files that cannot be moved)."""
    try:
        return json.loads((ws.state / HELD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_held(ws, held: dict) -> None:
    write_atomically(ws.state / HELD, json.dumps(held, ensure_ascii=False, indent=1).encode("utf-8"))


def describe_special(path: Path) -> str:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return "文件已不存在"
    kind = "快捷方式/符号链接" if stat.S_ISLNK(mode) else "特殊文件（管道、设备等）"
    return (f"「{printable(path.name)}」是{kind}，不是表单文件本身，未读取也未移动。"
            f"请把表单文件本身（.xlsx/.docx）放入收件箱，并删除该{kind}。")
