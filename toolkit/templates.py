"""Writes the blank forms shipped in templates/ (python -m toolkit.templates)."""
from .forms.build import build_docx, build_xlsx
from .forms.kinds import KINDS
from .notice_template import write_notice_template
from .paths import TEMPLATES


def write_templates(folder=TEMPLATES) -> list:
    written = []
    for kind in KINDS:
        stem = f"{kind.annex} {kind.title}".strip()
        written.append(build_xlsx(kind, {}, folder / f"{stem}.xlsx", defined_names=True))
        written.append(build_docx(kind, {}, folder / f"{stem}.docx"))
    written.append(write_notice_template(folder / "附件4 投诉处理督办通知单.docx"))
    return written


if __name__ == "__main__":
    for path in write_templates():
        print(path)
