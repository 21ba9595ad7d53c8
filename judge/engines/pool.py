"""Keeps at most one engine loaded: a run that needs a second model closes the first.

On vLLM's CPU backend a second engine in one process finds no memory for its KV cache, and on a GPU
two models rarely fit either, so stages that share a model share its engine and the rest take turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from judge.engines import Engine, EngineOptions, load_engine
from judge.records import ModelInfo

Loader = Callable[[ModelInfo, EngineOptions], Engine]


class EnginePool:
    def __init__(self, options: EngineOptions, loader: Loader = load_engine) -> None:
        self.options = options
        self.loader = loader
        self.current: Engine | None = None
        self.load_seconds = 0.0
        self.loads: list[str] = []

    def get(self, model: ModelInfo) -> Engine:
        if self.current is not None and self.current.model.fingerprint == model.fingerprint:
            return self.current
        self.close()
        start = time.perf_counter()
        self.current = self.loader(model, self.options)
        self.load_seconds += time.perf_counter() - start
        self.loads.append(model.ref)
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


class Borrowed:
    """An engine lent to a run that must not close it: the caller loaded it and keeps it (a test
    session, a benchmark, a notebook running several comparisons on one loaded model)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.model = engine.model

    def generate(self, chats, params, labels=None, grammar=None):
        return self.engine.generate(chats, params, labels, grammar)

    def label_probs(self, chats, labels):
        return self.engine.label_probs(chats, labels)

    def close(self) -> None:
        pass
