"""Shared fixtures: the bundled model resolved once, real engines started once per session.

vLLM's CPU backend holds one engine per process, so every test that needs a real engine goes through
`real_loader`, which hands out the session's engines and never closes them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from judge.engines import EngineOptions, load_engine  # noqa: E402
from judge.engines.pool import Borrowed  # noqa: E402
from judge.models.refs import resolve_model  # noqa: E402
from judge.records import Completion, Message, ModelInfo, SamplingParams  # noqa: E402


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory, request) -> Path:
    """One module's shared folder, removed when the module ends unless one of its tests failed.

    Training fixtures write GBs (a full checkpoint of the bundled model is ~1.6 GB with its
    optimizer); pytest would keep them all until the session ends, and CI's disk is finite.
    Per-test folders go at once through pyproject's tmp_path_retention_policy = "failed".
    """
    failed_before = request.session.testsfailed
    path = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    yield path
    if request.session.testsfailed == failed_before:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """Converted models: $JUDGE_CACHE_DIR when set (make test sets it), else a session temp dir."""
    given = os.environ.get("JUDGE_CACHE_DIR")
    return Path(given) if given else tmp_path_factory.mktemp("judge-cache")


@pytest.fixture(scope="session")
def smollm2(cache_dir) -> ModelInfo:
    return resolve_model("smollm2", cache_dir)


@pytest.fixture(scope="session")
def engines(smollm2):
    """Lazily started real engines keyed by kind; vLLM starts at most once per session."""
    started: dict[str, object] = {}

    def get(kind: str):
        if kind not in started:
            # a small KV cache: a vLLM server and training runs share the machine with it
            started[kind] = load_engine(smollm2, EngineOptions(kind=kind, kv_cache_gb=1.0))
        return started[kind]

    yield get
    for engine in started.values():
        engine.close()


@pytest.fixture(scope="session")
def real_loader(engines):
    """A loader for run_compare that serves smollm2 from the session's engine of the asked kind."""

    def load(model: ModelInfo, options: EngineOptions):
        kind = "vllm" if options.kind == "auto" else options.kind
        engine = engines(kind)
        assert model.fingerprint == engine.model.fingerprint, "tests only load the bundled model"
        return Borrowed(engine)

    return load


class ScriptedEngine:
    """The one fake: replays exact judge texts and label probabilities at the engine seam.

    `replies` maps a substring of the rendered chat to a reply; answers for generation are
    "answer <n> to: <prompt>" unless `answers` names one. Every call is recorded in `calls`, and
    the grammar each generate call was given in `grammars` (it replays its texts regardless).
    """

    def __init__(self, model: ModelInfo, replies=None, probs=None, answers=None) -> None:
        self.model = model
        self.replies = replies or {}
        self.probs = probs or {}
        self.answers = answers or {}
        self.calls: list[tuple[str, int]] = []
        self.grammars: list[object] = []

    def _pick(self, table: dict, chat: Sequence[Message], default):
        text = "\n".join(m.content for m in chat)
        return next((value for key, value in table.items() if key in text), default)

    def generate(self, chats, params: SamplingParams, labels=None,
                 grammar=None) -> list[Completion]:
        """With `labels`, each completion carries the same probabilities label_probs gives."""
        self.calls.append(("generate", len(chats)))
        self.grammars.append(grammar)
        out = []
        for chat in chats:
            prompt = chat[-1].content
            text = self._pick(self.replies, chat, None)
            if text is None:
                text = self.answers.get(prompt, f"answer {params.seed} to: {prompt}")
            probs = self._pick(self.probs, chat, {}) if labels is not None else None
            out.append(Completion(text=text, tokens=len(text.split()), label_probs=probs))
        return out

    def label_probs(self, chats, labels):
        self.calls.append(("label_probs", len(chats)))
        return [self._pick(self.probs, chat, {}) for chat in chats]

    def close(self) -> None:
        pass


@pytest.fixture
def fake_model(tmp_path) -> ModelInfo:
    """A model folder with just a config and tokenizer file: resolvable, never loaded."""
    folder = tmp_path / "fake-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "tokenizer.json").write_text("{}")
    return resolve_model(str(folder), tmp_path / "cache")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def vllm_server(smollm2, tmp_path_factory):
    """A real OpenAI-compatible vLLM server for the bundled model on 127.0.0.1, stopped by pid."""
    import signal
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    log = tmp_path_factory.mktemp("vllm-server") / "server.log"
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", smollm2.path,
           "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port),
           "--dtype", "float32", "--enforce-eager", "--kv-cache-memory-bytes", str(2**30),
           "--max-model-len", "2048", "--max-logprobs", "20",
           # compact JSON-schema replies, as the in-process engine gives (vllm_engine.py)
           "--structured-outputs-config",
           '{"backend": "xgrammar", "disable_any_whitespace": true}']
    env = os.environ | {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "OMP_NUM_THREADS": "1"}
    def die_with_parent() -> None:  # a killed test session must not leave the server behind
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 400
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vLLM server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM server not ready in 400 s: {log.read_text()[-2000:]}")
            time.sleep(2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
