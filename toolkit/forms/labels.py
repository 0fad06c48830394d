"""Label text normalisation: spaces, full-width/half-width and a trailing colon do not matter."""
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[:：*＊]+$")
_LEADING = re.compile(r"^[*＊]+")


def normalise(text: object) -> str:
    """Fold full-width forms (NFKC), drop all white space."""
    if text is None:
        return ""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text)))


def label_key(text: object) -> str:
    """The comparable form of a label: normalised, without trailing colon or required-marks."""
    return _LEADING.sub("", _TRAILING.sub("", normalise(text)))
