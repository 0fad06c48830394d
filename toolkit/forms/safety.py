"""Decide, before any parser sees the bytes, whether a file may be opened: its format, a zip bomb,
XML entity tricks, an encrypted (OLE) container, a truncated archive. Every refusal says how to fix it."""
import io
import zipfile
from pathlib import Path

from ..problems import Problem, error

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
ACCEPTED_SUFFIXES = {".xlsx", ".xlsm", ".docx"}
LEGACY_SUFFIXES = {".xls": "Excel", ".et": "WPS 表格", ".ods": "OpenDocument 表格",
                   ".doc": "Word", ".wps": "WPS 文字", ".odt": "OpenDocument 文字"}
MAIN_PARTS = {"xl/workbook.xml": "xlsx", "word/document.xml": "docx"}
MAX_MEMBERS = 2000
MAX_TOTAL_BYTES = 64 * 1024 * 1024       # all parts, uncompressed
MAX_PART_BYTES = 8 * 1024 * 1024         # one sheet/document part: a form is a few hundred cells
MAX_RATIO = 200                          # uncompressed/compressed, for parts over 1 MiB
FORBIDDEN_XML = (b"<!DOCTYPE", b"<!ENTITY")
CHUNK = 1 << 16


def refuse(message: str) -> Problem:
    """A refusal of the file as a whole (no field, no cell)."""
    return error("文件", "", message)


def _save_as_hint(suffix: str) -> str:
    target = ".docx" if suffix in (".doc", ".wps", ".odt", ".docx") else ".xlsx"
    app = "Word/WPS" if target == ".docx" else "Excel/WPS"
    return f"请在 {app} 中另存为 {target} 后重新放入"


def sniff(path: Path, data: bytes) -> tuple[str | None, Problem | None]:
    """('xlsx'|'docx', None) when the bytes may be parsed, else (None, problem)."""
    suffix = path.suffix.lower()
    if suffix in LEGACY_SUFFIXES:
        return None, refuse(f"不支持旧版或其他格式的{LEGACY_SUFFIXES[suffix]}文件（{suffix}），"
                            f"{_save_as_hint(suffix)}。")
    if suffix not in ACCEPTED_SUFFIXES:
        return None, refuse(f"不支持的文件类型「{suffix or '无扩展名'}」，只接受 .xlsx、.xlsm 与 .docx 表单。")
    if not data:
        return None, refuse("文件是空的（0 字节），请重新保存表单后放入。")
    if data.startswith(OLE_MAGIC):
        if ENCRYPTION_STREAM in data:
            return None, refuse("文件已加密，请取消密码后另存为 .xlsx/.docx 再放入。")
        return None, refuse(f"文件实为旧版 Office 格式（.xls/.doc 改了扩展名），{_save_as_hint(suffix)}。")
    if not data.startswith(ZIP_MAGIC):
        return None, refuse(f"文件不是有效的 Office 文档（内容已损坏或不是表格/文档），{_save_as_hint(suffix)}。")
    return _check_zip(data, suffix)


def _check_zip(data: bytes, suffix: str) -> tuple[str | None, Problem | None]:
    damaged = refuse("文件不完整或已损坏（可能未复制完成），请重新保存或重新复制后放入。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        return None, damaged
    if len(members) > MAX_MEMBERS:
        return None, refuse("文件内部结构异常（部件过多），疑似恶意文件，已拒收。")
    total = sum(m.file_size for m in members)
    if total > MAX_TOTAL_BYTES:
        return None, refuse("文件解压后过大，疑似压缩炸弹或并非表单，已拒收。请只提交单张表单。")
    for member in members:
        if member.flag_bits & 0x1:
            return None, refuse("文件已加密，请取消密码后另存为 .xlsx/.docx 再放入。")
        if member.file_size > MAX_PART_BYTES or (
                member.file_size > (1 << 20) and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
            return None, refuse("表格或文档内容过大（例如工作表有上百万行），不是一张表单。"
                                "请删除多余的行或工作表，只保留表单后另存再放入。")
    kind = next((k for part, k in MAIN_PARTS.items() if part in archive.namelist()), None)
    if kind is None:
        return None, refuse(f"文件不是 Excel 工作簿或 Word 文档，{_save_as_hint(suffix)}。")
    try:
        for member in members:
            if not _member_is_clean(archive, member):
                return None, refuse("文件含有不允许的 XML 实体声明（DOCTYPE/ENTITY），疑似恶意文件，已拒收。"
                                    "请用 Excel/Word 重新另存后放入。")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        return None, damaged
    return kind, None


def _member_is_clean(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Decompress the part (bounded by its declared size, CRC checked) and scan XML for DTDs."""
    is_xml = member.filename.endswith((".xml", ".rels", ".vml"))
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            if is_xml:
                window = tail + chunk
                if any(marker in window for marker in FORBIDDEN_XML):
                    return False
                tail = window[-16:]
    return True
