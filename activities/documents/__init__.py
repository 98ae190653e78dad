"""The documents a cluster takes home (the certificate, the benchmarking report) as PDF: HTML templates
rendered by WeasyPrint, so the web page and the PDF come from the same markup."""
