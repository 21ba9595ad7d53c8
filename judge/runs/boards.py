"""The folders built of runs: a leaderboard folder and a sweep folder, every path in them.

    results/<leaderboard>/
      leaderboard.json .md .png .html   the ranked table (judge/stats/leaderboard.py)
      prompts.jsonl                  the prompts every model answered, ids shared by every folder
      generations/<reference>.jsonl  the reference's answers, generated once
      controls/<judge>__<template>.jsonl   the control pairs' verdicts, judged once for all pairs
      <model>/                       a run folder (judge/runs/folder.py): REFERENCE vs MODEL

    results/<sweep>/
      sweep.json sweep.md sweep.png   the ranked table (judge/stats/sweep.py, judge/report/sweep.py)
      trials/<name>/                  output_dir: model, training.json, metrics.jsonl, checkpoints
      recipes/<name>.yaml             the trial's whole recipe: what its `judge train` child reads
      logs/<name>.log                 the child's output, every attempt appended
      leaderboard/                    a leaderboard folder: BASE against every trial

`judge leaderboard` (judge/pipeline/leaderboard.py) and `judge sweep` (judge/sweep/run.py) write
them; nothing else builds these paths.
"""

from __future__ import annotations

from pathlib import Path

from judge.runs.folder import RunFolder


class LeaderboardFolder:
    """Every path of a leaderboard folder (the layout above)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.json_file = self.root / "leaderboard.json"
        self.md_file = self.root / "leaderboard.md"
        self.plot_file = self.root / "leaderboard.png"
        self.html_file = self.root / "leaderboard.html"
        self.prompts_file = self.root / "prompts.jsonl"

    def pair(self, name: str) -> RunFolder:
        """The run folder of the pair REFERENCE vs the model named `name`."""
        return RunFolder(self.root / folder_name(name))


def folder_name(name: str) -> str:
    """A model's name as a folder name: anything but letters, digits, - _ . becomes -."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".") or "model"


class SweepFolder:
    """Every path of a sweep folder (the layout above)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.json_file, self.md_file = self.root / "sweep.json", self.root / "sweep.md"
        self.plot_file, self.leaderboard = self.root / "sweep.png", self.root / "leaderboard"

    def model(self, name: str) -> Path:
        return self.root / "trials" / name

    def recipe(self, name: str) -> Path:
        return self.root / "recipes" / f"{name}.yaml"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"
