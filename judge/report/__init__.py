"""What a run leaves for people: terminal tables, report.md, report.html, CSV and plots."""
