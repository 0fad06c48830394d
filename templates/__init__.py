"""Package data: the default policy, the blank forms and the Excel button workbook (toolkit._templates)."""
