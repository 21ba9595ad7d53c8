"""The Ray engine against in-process vLLM on the same 64 prompts, and 2 Ray replicas against 1.

    export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 VLLM_ENABLE_V1_MULTIPROCESSING=0
    .venv/bin/python bench/ray_engine.py                          # 64 prompts x 32 tokens
    .venv/bin/python bench/ray_engine.py --prompts 16 --max-new-tokens 8     # a quick look

All three sides answer the same chat-templated prompts (the 48 built-in ones, then the first 16
again asking for brevity) greedily with the bundled model in fp32, one side at a time:
- vLLM in-process: the engine loads (timed), then answers all prompts in one call;
- Ray, 1 replica: one call, which starts the vLLM engine on the cluster (the model loads), sends
  the prompts as a Ray Dataset and streams the replies back; a stage pays exactly this;
- Ray, 2 replicas: the same call on two engines.
One local Ray cluster serves both Ray sides (its start is timed apart: a run pays it once).
The overhead ratio compares what one stage costs: Ray's call against in-process load + answers.
On a 2-core machine two replicas share the same two cores (and here other work shares them too),
so expect little from the second one; the numbers say how little.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from judge.cli.common import default_cache, quiet_backends
from judge.records import Message, SamplingParams


def prompts(n: int) -> list[list[Message]]:
    from judge.promptsets.load import load_prompts

    builtin = [item.prompt for item in load_prompts("builtin", None)]
    texts = builtin + [f"{p} Keep it short." for p in builtin]
    return [[Message(role="user", content=t)] for t in texts[:n]]


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    quiet_backends()

    import ray

    from judge.engines import EngineOptions, load_engine
    from judge.engines.ray_cluster import WORKER_ENV
    from judge.models.refs import resolve_model

    model = resolve_model("smollm2", Path(default_cache()))
    chats, params = prompts(args.prompts), SamplingParams(max_new_tokens=args.max_new_tokens)

    vllm, load_s = timed(lambda: load_engine(model, EngineOptions(kind="vllm")))
    local, local_s = timed(lambda: vllm.generate(chats, params))
    vllm.close()
    tokens = sum(c.tokens for c in local)
    print(f"vLLM in-process : load {load_s:6.1f} s + answers {local_s:6.1f} s "
          f"({tokens / local_s:5.1f} tok/s once loaded)")

    _, cluster_s = timed(lambda: ray.init(address="local", num_cpus=3, include_dashboard=False,
                                          log_to_driver=False,
                                          runtime_env={"env_vars": WORKER_ENV}))
    print(f"Ray cluster     : started in {cluster_s:6.1f} s (once per run)")
    walls = {}
    for replicas in (1, 2):
        engine = load_engine(model, EngineOptions(kind="ray", replicas=replicas))
        done, walls[replicas] = timed(lambda engine=engine: engine.generate(chats, params))
        same = sum(a.text == b.text for a, b in zip(done, local, strict=True))
        print(f"Ray, {replicas} replica{'s' if replicas > 1 else ' '}  : one call "
              f"{walls[replicas]:6.1f} s (engine start + answers; "
              f"{engine.replicas_served} engines served; {same}/{len(chats)} answers equal "
              "to in-process vLLM's)")
        engine.close()
    ray.shutdown()
    print(f"2 replicas / 1 replica, wall: {walls[2] / walls[1]:.2f} (below 1: faster)")
    print(f"Ray stage / in-process vLLM load + answers: {walls[1] / (load_s + local_s):.2f}")


if __name__ == "__main__":
    main()
