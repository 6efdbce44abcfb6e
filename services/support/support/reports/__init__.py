"""Reports (§6): monthly complaint statistics, the month-end service supervision report, the
Friday weekly summary, the return-visit summary; JSON, CSV and XLSX."""
