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
    """`options` serve every model that is asked for without options of its own; a role with
    its own engine settings (judge/pipeline/roles.py) passes them to `get`. The same model
    asked for with other options is another engine: the loaded one closes first."""

    def __init__(self, options: EngineOptions, loader: Loader = load_engine) -> None:
        self.options = options
        self.loader = loader
        self.current: Engine | None = None
        self.current_options: EngineOptions | None = None
        self.load_seconds = 0.0
        self.loads: list[str] = []

    def get(self, model: ModelInfo, options: EngineOptions | None = None) -> Engine:
        options = options or self.options
        if (self.current is not None and self.current.model.fingerprint == model.fingerprint
                and self.current_options == options):
            return self.current
        self.close()
        start = time.perf_counter()
        self.current = self.loader(model, options)
        self.current_options = options
        self.load_seconds += time.perf_counter() - start
        self.loads.append(model.ref)
        return self.current

    def holds(self, model: ModelInfo, options: EngineOptions | None = None) -> bool:
        """Whether `model` with these options is the engine loaded now."""
        return (self.current is not None and self.current.model.fingerprint == model.fingerprint
                and self.current_options == (options or self.options))

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None
            self.current_options = None


class Borrowed:
    """An engine lent to a run that must not close it: the caller loaded it and keeps it (a test
    session, a benchmark, a notebook running several comparisons on one loaded model)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.model = engine.model

    def stream(self, chats, params, labels=None, grammar=None):
        return self.engine.stream(chats, params, labels, grammar)

    def generate(self, chats, params, labels=None, grammar=None):
        return self.engine.generate(chats, params, labels, grammar)

    def label_probs(self, chats, labels):
        return self.engine.label_probs(chats, labels)

    def close(self) -> None:
        pass
