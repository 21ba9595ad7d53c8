"""Shared fixtures: the two models, each resolved once, and the real engines and the real server,
each started once per session and never closed by a test.

Two models (docs/development.md, "The test suite"): `tiny`, a random two-layer Llama the suite
builds (tests/tiny_model.py) for everything whose point is plumbing, and `smollm2`, the bundled
instruct model, for the few tests where a real model's behaviour is the point. Each such test
says why.

vLLM's CPU backend holds one engine per process, and the one vLLM engine here is the bundled
model's: what tests read through vLLM (in-process or served) is label probabilities, which vLLM
takes from its top 20 log-probs, and a random model never puts the labels there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # xdist's workers get COLUMNS=80 and LINES=24 of their own; judge's stderr console reads them
    # once, when it is imported, and would wrap every log line at 80 columns for the whole
    # worker, where a one-process run (and a user) has no such setting. Tests that need a width
    # pass one per call.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)

from scenes import ScriptedEngine  # noqa: E402, F401  (the one fake; test files import it from scenes)
from tiny_model import build_tiny  # noqa: E402

from judge.engines import EngineOptions, load_engine  # noqa: E402
from judge.engines.pool import Borrowed  # noqa: E402
from judge.models.refs import resolve_model  # noqa: E402
from judge.records import ModelInfo  # noqa: E402

SERVER_WAIT = 400  # seconds a vLLM server may take to answer /models on a busy 2-core machine


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory, request) -> Path:
    """One module's shared folder, removed when the module ends unless one of its tests failed.

    Training fixtures write checkpoints (weights and optimizer state); pytest would keep them all
    until the session ends. Per-test folders go at once through pyproject's
    tmp_path_retention_policy = "failed".
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
def tiny(smollm2, cache_dir) -> ModelInfo:
    """The tiny random model (built once, cached by its recipe's hash), as a model folder."""
    return resolve_model(str(build_tiny(Path(smollm2.path), cache_dir)), cache_dir)


@pytest.fixture(scope="session")
def engines(smollm2, tiny):
    """engines(kind, model="smollm2"): the session's real engine of that kind for that model
    ("smollm2" or "tiny"), started on first use; vLLM for one model only."""
    models = {"smollm2": smollm2, "tiny": tiny}
    started: dict[tuple[str, str], object] = {}

    def get(kind: str, model: str = "smollm2"):
        if (kind, model) not in started:
            assert kind != "vllm" or model == "smollm2", "the one vLLM engine is smollm2's"
            # a small KV cache: a vLLM server and training runs share the machine with it
            started[kind, model] = load_engine(models[model],
                                               EngineOptions(kind=kind, kv_cache_gb=1.0))
        return started[kind, model]

    yield get
    for engine in started.values():
        engine.close()


@pytest.fixture(scope="session")
def real_loader(engines, smollm2, tiny):
    """A loader for run_compare & co. that serves the session's models from its engines."""
    names = {smollm2.fingerprint: "smollm2", tiny.fingerprint: "tiny"}

    def load(model: ModelInfo, options: EngineOptions):
        kind = "vllm" if options.kind == "auto" else options.kind
        assert model.fingerprint in names, f"tests load only smollm2 and tiny, not {model.ref}"
        return Borrowed(engines(kind, names[model.fingerprint]))

    return load


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


class Server:
    """A real OpenAI-compatible vLLM server of one model folder on 127.0.0.1, stopped by pid."""

    def __init__(self, model: ModelInfo, name: str, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model.path,
               "--served-model-name", name, "--host", "127.0.0.1", "--port", str(self.port),
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
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True, preexec_fn=die_with_parent)
        self.started = time.monotonic()

    def wait(self) -> str:
        import httpx

        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"vLLM server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self.url
            except httpx.HTTPError:
                pass
            if time.monotonic() > self.started + SERVER_WAIT:
                pytest.fail(f"vLLM server not ready in {SERVER_WAIT} s: "
                            f"{self.log.read_text()[-2000:]}")
            time.sleep(1)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def server_slot(smollm2, tmp_path_factory):
    """Where the session's one server lives once started (by server_start or vllm_server)."""
    slot: dict[str, Server] = {}

    def start() -> Server:
        if "server" not in slot:
            log = tmp_path_factory.mktemp("vllm-server") / "server.log"
            slot["server"] = Server(smollm2, "smollm2", log)
        return slot["server"]

    yield start
    if "server" in slot:
        slot["server"].stop()


@pytest.fixture(scope="session", autouse=True)
def server_start(request):
    """In a one-process run, the server starts with the session when any collected test uses
    it: it loads on the core the tests leave idle (torch runs them on one thread) while the tests
    before it run, instead of holding them up. Under pytest-xdist every worker collects every
    test, so the worker that runs the server's tests starts it when the first one asks."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    if any("vllm_server" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("server_slot")()


@pytest.fixture(scope="session")
def vllm_server(server_slot) -> str:
    """The base URL (…/v1) of the session's vLLM server of the bundled model, once it answers.
    The bundled model: what the server tests read is label probabilities (see the top)."""
    return server_slot().wait()


# The longest modules, longest first (`make test` lists the slowest tests): they start first, so
# under xdist the two workers finish close together instead of one running a long module alone
# (the Makefile keeps xdist from reordering them by their number of tests).
LONGEST = ("test_demo", "test_ray_engine", "test_openai_engine", "test_kill", "test_sweep_train",
           "test_sweep", "test_cli", "test_install", "test_verdict_one_pass", "test_bad_input",
           "test_stats_properties", "test_structured", "test_train_dpo_sft", "test_train_judged")


def pytest_collection_modifyitems(items):
    first = {name: rank for rank, name in enumerate(LONGEST)}
    items.sort(key=lambda item: first.get(item.module.__name__ if item.module else "",
                                          len(LONGEST)))


def pytest_sessionstart(session):
    """Under pytest-xdist (`make test` runs a worker per core, --dist loadfile: a module and its
    fixtures stay in one worker), the models the workers share are made once, before any worker
    starts, rather than by two workers at once: the bundled model's conversion and the tiny
    model's build."""
    given = os.environ.get("JUDGE_CACHE_DIR")
    xdist_main = session.config.getoption("numprocesses", None) and not hasattr(
        session.config, "workerinput")
    if given and xdist_main:
        bundled = resolve_model("smollm2", Path(given))
        build_tiny(Path(bundled.path), Path(given))
