"""judge: is the tuned model better than its base, and how sure are we?

The package is laid out by seam: `engines` (model calls), `templates` (judge prompts and verdict
parsers), `ledger` (append-only cache), `stats` (pure statistics), `compare` (the pipeline) and
`cli`.
"""

__version__ = "0.1.0"
