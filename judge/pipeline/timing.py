"""What each stage cost: seconds, tokens and tokens/s, summed over every run into one folder."""

from __future__ import annotations

from collections.abc import Mapping

from judge.runs.summary import StageTime


def stage_time(seconds: float, tokens: int) -> StageTime:
    rate = round(tokens / seconds, 2) if seconds > 0 and tokens else None
    return StageTime(seconds=round(seconds, 3), tokens=tokens, tokens_per_second=rate)


class StageTiming:
    """A stage's running totals: engine seconds (model loads excluded), tokens, engine requests."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.tokens = 0
        self.requests = 0

    def as_time(self) -> StageTime:
        return stage_time(self.seconds, self.tokens)

    def add(self, other: StageTiming) -> None:
        """Fold another run of the same stage in (a panel's members, one after the other)."""
        self.seconds += other.seconds
        self.tokens += other.tokens
        self.requests += other.requests


def accumulate(
    previous: Mapping[str, StageTime], current: Mapping[str, StageTime]
) -> dict[str, StageTime]:
    """Stage costs summed over every run into one folder: what the results in it cost, even when
    they were computed over several (resumed) runs. A cached rerun adds next to nothing."""
    stages = dict.fromkeys([*previous, *current])
    return {
        stage: stage_time(
            sum(t[stage].seconds for t in (previous, current) if stage in t),
            sum(t[stage].tokens for t in (previous, current) if stage in t),
        )
        for stage in stages
    }
