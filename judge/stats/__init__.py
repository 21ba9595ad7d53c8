"""Pure statistics over judged comparisons, one family per module, and the typed summary.json."""
