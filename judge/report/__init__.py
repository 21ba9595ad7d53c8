"""What a run leaves for people: the terminal tables, report.md and the win-rate plot."""
