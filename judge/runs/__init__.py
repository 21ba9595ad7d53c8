"""Storage: what judge keeps on disk, and the only code that knows where.

    folder.py    a run folder: every path in it, run.json as a record (RunRecord)
    ledger.py    append-only JSONL ledgers and the content keys their records go by
    summary.py   summary.json as a record (Summary and its blocks)
    reader.py    the one run reader: read_run(folder) -> RunData, for the report, the card and
                 `judge report`
    boards.py    the folders built of runs: a leaderboard folder, a sweep folder
    lock.py      one writer per folder

It imports nothing of judge above the ground floor (records, files, errors); tests/test_floors.py
holds it to that.
"""
