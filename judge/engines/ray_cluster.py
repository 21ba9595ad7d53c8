"""The Ray cluster a run's Ray engine works on: a running one it joins (`--ray-address auto` or
`host:port`), or a local one it starts for the run. Either stays connected until the process
ends (Ray's exit hook disconnects, and stops a local cluster), so every model of a run shares it.

Engines are placed by bundles: one {GPU: 1, CPU: 1} per tensor-parallel rank where the cluster
has GPUs, one {CPU: 1} where it has none (left to its default, Ray's vLLM stage asks for a GPU and
on a CPU-only cluster waits for one forever). A request the cluster can never place (more
engines x ranks than it has GPUs or CPUs) is refused before anything starts, for the same reason.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from judge.engines import EngineOptions
from judge.errors import InputError, ServiceError, first_line

# what every engine process needs, on every node: vLLM in the engine's own process tree (its
# multiprocessing front end deadlocks inside a Ray actor on CPU) and one OpenMP thread per rank
WORKER_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "OMP_NUM_THREADS": "1"}
# passed on from the driver where set: quiet engines, offline hubs, where models are cached
PASSED_ON = ("VLLM_CONFIGURE_LOGGING", "VLLM_LOGGING_LEVEL", "HF_HUB_OFFLINE",
             "TRANSFORMERS_VERBOSITY", "TQDM_DISABLE", "TORCH_CPP_LOG_LEVEL", "HF_HOME")
ROW_MAPS_CPUS = 0.2  # the two light row maps beside the engines (ray_engine.py)
ENGINE_START_S = 1800  # a large model on a slow disk takes minutes to load
LOCAL_OBJECT_STORE = 2**29  # rows are token ids and replies: half a GiB is plenty


@dataclass
class Cluster:
    address: str | None  # None: a local cluster this run started
    cpus: float
    gpus: float
    runtime_env: dict[str, Any] = field(default_factory=dict)
    owned: bool = False
    verbose: bool = False

    @classmethod
    def start(cls, options: EngineOptions) -> Cluster:
        import ray

        verbose = logging.getLogger().isEnabledFor(logging.INFO)  # the CLI's --verbose
        quiet_ray(verbose)
        env = WORKER_ENV | {name: os.environ[name] for name in PASSED_ON if name in os.environ}
        runtime_env = {"env_vars": env}
        owned = not ray.is_initialized()
        if owned:
            local: dict[str, Any] = {}
            if options.ray_address is None:
                # a local cluster counts at least one CPU per engine rank and one for the row
                # maps, so that --replicas 2 on 2 cores runs (shared) instead of waiting
                need = options.replicas * options.tensor_parallel_size + 1
                local = {"num_cpus": max(os.cpu_count() or 1, need),
                         "object_store_memory": LOCAL_OBJECT_STORE}
            try:
                # "local": a cluster of its own, never one another program runs on this host
                ray.init(address=options.ray_address or "local", runtime_env=runtime_env,
                         **local,
                         log_to_driver=verbose, logging_level=logging.INFO if verbose
                         else logging.ERROR, include_dashboard=False,
                         configure_logging=verbose)
            except (ConnectionError, RuntimeError, ValueError) as err:
                where = options.ray_address or "a local cluster"
                raise ServiceError(f"cannot reach the Ray cluster at {where}: "
                                   f"{first_line(err)}") from None
        resources = ray.cluster_resources()
        cluster = cls(options.ray_address, resources.get("CPU", 0.0), resources.get("GPU", 0.0),
                      runtime_env, owned, verbose)
        cluster.check(options)
        return cluster

    def bundles(self, ranks: int) -> dict[str, Any]:
        bundle = {"GPU": 1, "CPU": 1} if self.gpus else {"CPU": 1}
        return {"bundles": [dict(bundle) for _ in range(ranks)], "strategy": "PACK"}

    def check(self, options: EngineOptions) -> None:
        """Refuse what the cluster can never place (Ray would wait for it without end)."""
        need = options.replicas * options.tensor_parallel_size
        kind, have = ("GPU", self.gpus) if self.gpus else ("CPU", self.cpus)
        if need + (0 if self.gpus else ROW_MAPS_CPUS) > have:
            self.stop()
            raise InputError(
                f"--replicas {options.replicas} x --tensor-parallel-size "
                f"{options.tensor_parallel_size} engines need {need} {kind}s; the Ray cluster "
                f"has {have:g}")

    def stop(self) -> None:
        """Leave a cluster this engine connected to (a local one stops with it); one the caller
        had already connected (a notebook, a test session, an earlier engine) stays."""
        import ray

        if self.owned and ray.is_initialized():
            ray.shutdown()


def errors_to_log() -> None:
    """Ray's driver prints what its raylets report (a task that failed and will be retried, an
    actor that died) straight to sys.stdout, where a `--json` summary goes: send it to a logger
    instead, which judge shows with --verbose only. The failure itself still reaches judge as
    the exception of the run."""
    import ray._private.worker as driver

    if getattr(driver.print_to_stdstream, "judge_quiet", False):
        return
    log = logging.getLogger("ray.driver")

    def to_log(data: dict, ignore_prefix: bool) -> None:
        for line in data.get("lines", []):
            log.info("(%s) %s", data.get("pid", ""), line)

    to_log.judge_quiet = True  # type: ignore[attr-defined]
    driver.print_to_stdstream = to_log


def quiet_ray(verbose: bool) -> None:
    """Ray Data's progress bars and its per-dataset log lines, hidden unless --verbose (vLLM's
    and the workers' own lines are kept off the driver by `log_to_driver`)."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = verbose
    context.print_on_execution_start = verbose
    context.verbose_stats_logs = False
    # engines that cannot all start in this time fail the run instead of waiting for resources
    # the cluster may never have (an engine whose start fails fails it at once)
    context.wait_for_min_actors_s = ENGINE_START_S
    if verbose:
        return
    errors_to_log()
    # ray.llm's loggers set themselves up (a handler and INFO each) unless "ray.llm" has a
    # handler; with one they pass their records up to judge's filter, like every library's
    logging.getLogger("ray.llm").addHandler(logging.NullHandler())
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "ray"]
    for name in ("ray", "ray.data", "ray.llm", *names):  # their errors too: judge says one line
        logging.getLogger(name).setLevel(logging.CRITICAL)
