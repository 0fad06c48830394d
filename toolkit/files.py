"""File operations every module shares: one atomic write (temp file, fsync, rename, fsync of the folder),
a move that never replaces what is already there, and names made safe to print or log."""
import errno
import os
from pathlib import Path


class TargetExists(FileExistsError):
    """A move or publish would have replaced an existing file."""


def fsync_folder(folder: Path) -> None:
    """Make the names in `folder` (files just created, renamed or removed) durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:                 # Windows cannot open folders; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomically(path: Path, data, sync_folder: bool = True) -> None:
    """Replace `path` with `data` (bytes, or a callable taking a binary file) all at once: a reader
    sees the old content or the new, never a part; after a crash only a `.writing` temp may remain.
    With `sync_folder` false the caller makes the folder durable (once for several files)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.writing")
    try:
        with open(temp, "wb") as fh:
            data(fh) if callable(data) else fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        if not exc.filename:                 # a writer that failed deep inside (a zip on a full disk)
            exc.filename = str(path)
        raise
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    if sync_folder:
        fsync_folder(path.parent)


def write_new(path: Path, data: bytes) -> None:
    """Create `path` with `data`; TargetExists when it is already there (never overwritten)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.writing")
    with open(temp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        move_no_replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def move_no_replace(source: Path, target: Path, sync_folder: bool = True) -> None:
    """Rename `source` to `target` on one file system, failing with TargetExists rather than replacing."""
    if hasattr(os, "link") and os.name != "nt":
        try:
            os.link(source, target)
        except FileExistsError:
            raise TargetExists(str(target)) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            if target.exists() or target.is_symlink():
                raise TargetExists(str(target)) from None
            os.rename(source, target)
            return
        os.unlink(source)
    else:                           # Windows: rename never replaces an existing file
        try:
            os.rename(source, target)
        except FileExistsError:
            raise TargetExists(str(target)) from None
    if sync_folder:
        fsync_folder(target.parent)


def printable(name: str) -> str:
    """A file name as text that can be printed and logged on one line: bytes that are not UTF-8 (names
    unzipped from a Chinese Windows archive are GBK) are decoded as GBK when they are, else shown as
    \\xNN; control characters such as newlines are shown escaped."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        try:
            name = raw.decode("gbk")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name)
