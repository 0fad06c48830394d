"""Found in review: system and library texts reached clerks in English. Each failure is told in Chinese,
with where it is and what to do."""
import errno
import re
import sqlite3

import pytest

from toolkit.errors import PolicyError, os_reason, sqlite_reason
from toolkit.policy import load_policy
from toolkit.provenance import BadRecord, Provenance, load

ENGLISH = re.compile(r"[A-Za-z]{4,}")


def _no_english(text: str) -> bool:
    return not [w for w in ENGLISH.findall(text) if w not in {"TOML", "JSON", "tousu", "ledger", "rebuild", "UTF", "Excel"}]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR,
                                  errno.EBUSY, errno.ENAMETOOLONG, errno.EIO, errno.ELOOP])
def test_os_errors_are_told_in_chinese(code):
    assert _no_english(os_reason(OSError(code, "English words from the system")))


@pytest.mark.parametrize("message", ["database or disk is full", "disk I/O error", "database is locked",
                                     "attempt to write a readonly database", "file is not a database",
                                     "something else entirely"])
def test_database_errors_are_told_in_chinese(message):
    assert _no_english(sqlite_reason(sqlite3.OperationalError(message)))


def test_a_policy_that_does_not_parse_names_the_line_in_chinese(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text("[numbering\npattern = 1\n", encoding="utf-8")
    with pytest.raises(PolicyError) as raised:
        load_policy(policy)
    assert "第 1 行" in str(raised.value) and _no_english(str(raised.value).replace(str(policy), ""))


@pytest.mark.parametrize("content, expected", [("{ not json", "不是有效的 JSON（第 1 行第 3 列）"),
                                               ('{"sha256": "x"}', "记录缺少「original_name」项"),
                                               (b"\xff\xfe", "不是 UTF-8 编码的文本")])
def test_a_damaged_record_is_told_in_chinese(tmp_path, content, expected):
    path = tmp_path / "x.meta.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(BadRecord, match=re.escape(expected)):
        load(path, Provenance)


def test_due_says_when_it_fell_back_to_the_own_channel_limits(tousu):
    code, _, text = tousu("due", "--channel", "市政府12345热线批转", "--severity", "非重大", "--received",
                          "2026-11-20 15:30", json_out=False)
    assert code == 0 and "已按「自有渠道」时限计算" in text and "2026-11-23 23:59:59" in text
