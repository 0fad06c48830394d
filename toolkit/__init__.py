"""tousu: the paperwork of a customer-complaint office (《客户投诉管理办法》)."""
