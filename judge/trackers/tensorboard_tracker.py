"""TensorBoard: event files under TRACKERS/tensorboard/<run>-<UTC time>/, a sweep's trials in
subfolders of the sweep's (TensorBoard shows each folder as a run).

Written with torch's SummaryWriter (transformers' TensorBoard callback uses the same): the numbers
as scalars at step 0, the plots as images, and the settings, the verdicts in words and the tables
as text. TensorBoard renders text as Markdown, so every cell is escaped (md_text): a prompt or an
answer shows as typed, never as a link, an image or HTML.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from judge.escape import md_text
from judge.report.export import markdown_table
from judge.trackers.records import Cell, TrackedRun

if TYPE_CHECKING:
    from judge.trackers import TrackerSettings


def cell_text(value: Cell) -> str:
    return "" if value is None else str(value)


class TensorBoardTracker:
    def __init__(self, settings: TrackerSettings) -> None:
        self.settings = settings

    def log(self, run: TrackedRun) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        root = Path(self.settings.folder) / "tensorboard" / f"{run.name}-{stamp}"
        self.log_one(run, root)
        for child in run.children:
            self.log_one(child, root / child.name)

    def log_one(self, run: TrackedRun, folder: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=str(folder))
        try:
            for key, value in run.metrics.items():
                writer.add_scalar(key, value, 0)
            settings = [[k, cell_text(v)] for k, v in run.params.items()]
            writer.add_text("settings", markdown_table(run.name, ["setting", "value"],
                                                       settings), 0)
            for key, text in run.notes.items():
                writer.add_text(f"notes/{key}", md_text(text), 0)
            writer.add_text("tags", md_text(", ".join(run.tags)), 0)
            for name, table in run.tables.items():
                rows = [[cell_text(c) for c in row] for row in table.rows]
                writer.add_text(f"tables/{name}", markdown_table(name, table.columns, rows), 0)
            for name, path in run.images.items():
                writer.add_image(f"plots/{name}", read_png(path), 0, dataformats="HWC")
        finally:
            writer.close()


def read_png(path: str):  # type: ignore[no-untyped-def]
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
