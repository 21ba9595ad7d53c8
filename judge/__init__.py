"""judge: is the tuned model better than its base, and how sure are we?

The package is laid out by seam: `engines` (model calls), `templates` (judge prompts and verdict
parsers), `ledger` (append-only cache), `stats` (pure statistics), `compare` (the pipeline) and
`cli`.
"""

__version__ = "0.1.0"


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones left out), for run records."""
    from importlib import metadata

    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
