from datetime import datetime

import pytest

from toolkit.forms.reader import ConvertContext
from toolkit.forms.values import (
    SEVERITY_OPTIONS,
    Phone,
    Text,
    ValueIssue,
    normalise_phone,
    parse_datetime,
    ticked_options,
)

REF = datetime(2026, 11, 21, 9, 0)


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-03 14:30", datetime(2026, 11, 3, 14, 30)),
    ("2026/11/3", datetime(2026, 11, 3)),
    ("2026年11月3日14时30分", datetime(2026, 11, 3, 14, 30)),
    ("２０２６年１１月３日１４：３０", datetime(2026, 11, 3, 14, 30)),
    ("11月3日", datetime(2026, 11, 3)),
    ("12月30日", datetime(2025, 12, 30)),          # later than the arrival: last year
    ("2026.11.3 下午3点", datetime(2026, 11, 3, 15, 0)),
    ("20261103", datetime(2026, 11, 3)),
    (46329.5, datetime(2026, 11, 3, 12, 0)),       # an Excel serial typed in a General cell
    (datetime(2026, 11, 3, 14, 30), datetime(2026, 11, 3, 14, 30)),
])
def test_dates(raw, expected):
    assert parse_datetime(raw, REF)[0] == expected


@pytest.mark.parametrize("raw", ["下周一", "2026-13-01", "2026-02-30", "11月3日25时"])
def test_bad_dates(raw):
    with pytest.raises(ValueIssue):
        parse_datetime(raw, REF)


@pytest.mark.parametrize("raw, number_format, expected", [
    (13805931234, "General", ["13805931234"]),
    (13805931234.0, "General", ["13805931234"]),
    (5932856677, "General", ["0593-2856677"]),         # Excel dropped the leading 0 of a landline
    (5932856677, "00000000000", ["0593-2856677"]),
    ("０５９３－２８５６６７７", "General", ["0593-2856677"]),
    ("1062345678", "General", []),                      # text is kept as typed: not a valid number
    ("138 0593 1234 / 0593-2856677", "General", ["13805931234", "0593-2856677"]),
])
def test_phones(raw, number_format, expected):
    assert normalise_phone(raw, number_format) == expected


def test_phone_type_reports_invalid_numbers():
    with pytest.raises(ValueIssue, match="区号"):
        Phone().convert("12345", ConvertContext(REF))


def test_text_folds_full_width_digits_only():
    assert Text().convert("府西路１２号（北）", None) == "府西路12号（北）"


@pytest.mark.parametrize("text, expected", [
    ("重大投诉☑ 非重大投诉□", ["重大"]),
    ("重大投诉□非重大投诉☑", ["非重大"]),
    ("☑重大投诉 □非重大投诉", ["重大"]),
    ("□重大投诉 ■非重大投诉", ["非重大"]),
    ("重大投诉 口 非重大投诉 √", ["非重大"]),
    ("重大投诉✔ 非重大投诉☐", ["重大"]),
    ("重大投诉X 非重大投诉口", ["重大"]),
    ("重大投诉× 非重大投诉×", ["重大", "非重大"]),
    ("非重大投诉", ["非重大"]),                    # a dropdown value
    ("重大", ["重大"]),
    ("重大投诉□ 非重大投诉□", []),
])
def test_ticks(text, expected):
    assert ticked_options(text, SEVERITY_OPTIONS) == expected
