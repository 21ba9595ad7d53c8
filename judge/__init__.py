"""judge: is the tuned model better than its base, and how sure are we?

The package is laid out in floors, each importing only from its own and those below:
`cli` (options in, text out), `api` (what a notebook calls), `pipeline`, `sweep` and `train` (the
stages), `engines`, `templates`, `stats`, `report`, `card`, ... (one seam each), `runs` (storage:
run folders, ledgers, the run reader), and the ground (records, files, errors).
docs/reference/architecture.md has the map.
"""

from importlib import metadata

__version__ = "0.1.0"


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones left out), for run records."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
