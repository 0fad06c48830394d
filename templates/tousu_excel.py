"""The module of tousu_excel.xlsm: its RunPython macro and the xlwings add-in's "Run main" call
main() here; "UDF Modules" in _xlwings.conf points here for =TOUSU_DUE(...). All logic is in
toolkit.xl and the library."""
from toolkit.xl import TOUSU_DUE, main, notices_today, refresh_ledger, score_this_month, submit  # noqa: F401
