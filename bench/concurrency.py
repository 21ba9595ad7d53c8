"""`--engine openai`: requests in flight reach --concurrency, and throughput grows with it.

    .venv/bin/python bench/concurrency.py                       # 2 servers x 32 slots, 128 prompts
    .venv/bin/python bench/concurrency.py --servers 4 --delay 0.2

BENCH-ONLY STAND-IN SERVERS: no model runs here. Each loopback server answers /v1/models and
/v1/chat/completions like an OpenAI-compatible server, but every completion is a fixed delay
(`--delay` seconds) and a canned reply, and each server takes at most `--slots` requests at once
(more wait in its queue, as a GPU server's batch fills up). What is measured is the client: the
generate stage (judge.pipeline.generate.generate_stage) streaming through judge's OpenAI engine,
at several --concurrency values. Per value it prints the peak of requests in flight (counted by
the servers, and by the engine) and the throughput in requests per second. Throughput should grow
with --concurrency until servers x slots requests are in flight, and stay flat beyond.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from pathlib import Path

from judge.records import Generation, PromptItem, SamplingParams


class StandIn:
    """Loopback HTTP/1.1 servers on one asyncio loop in a thread; counts requests in flight."""

    def __init__(self, servers: int, delay: float, slots: int) -> None:
        self.delay, self.slots = delay, slots
        self.in_flight = self.peak = 0
        self.loop = asyncio.new_event_loop()
        self.ports: list[int] = []
        ready = threading.Event()
        threading.Thread(target=self._run, args=(servers, ready), daemon=True).start()
        ready.wait()

    def _run(self, servers: int, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            for _ in range(servers):
                gate = asyncio.Semaphore(self.slots)
                server = await asyncio.start_server(
                    lambda r, w, gate=gate: self._serve(r, w, gate), "127.0.0.1", 0)
                self.ports.append(server.sockets[0].getsockname()[1])

        self.loop.run_until_complete(start())
        ready.set()
        self.loop.run_forever()

    async def _serve(self, reader, writer, gate: asyncio.Semaphore) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                path = lines[0].split()[1]
                size = next((int(x.split(":")[1]) for x in lines
                             if x.lower().startswith("content-length:")), 0)
                if size:
                    await reader.readexactly(size)
                if path.endswith("/models"):
                    body = {"data": [{"id": "stand-in", "owned_by": "bench", "root": "stand-in"}]}
                else:
                    self.in_flight += 1
                    self.peak = max(self.peak, self.in_flight)
                    try:
                        async with gate:
                            await asyncio.sleep(self.delay)
                    finally:
                        self.in_flight -= 1
                    body = {"choices": [{"message": {"content": "A canned answer."}}],
                            "usage": {"completion_tokens": 4}}
                data = json.dumps(body).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def urls(self) -> tuple[str, ...]:
        return tuple(f"http://127.0.0.1:{port}/v1" for port in self.ports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--slots", type=int, default=32, help="requests each server runs at once")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per request")
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--concurrency", default="2,8,32,64,128")
    args = parser.parse_args()

    from judge.engines import EngineOptions
    from judge.engines.openai_engine import resolve_served
    from judge.engines.pool import EnginePool
    from judge.pipeline.generate import generate_stage
    from judge.runs.ledger import Ledger

    servers = StandIn(args.servers, args.delay, args.slots)
    items = [PromptItem(prompt_id=f"p{i}", prompt=f"Question {i}?") for i in range(args.prompts)]
    levels = [int(c) for c in args.concurrency.split(",")]
    rates: dict[int, float] = {}
    print(f"stand-in servers (bench only): {args.servers} x {args.slots} slots, "
          f"{args.delay:.2f} s per request; {args.prompts} prompts through the generate stage")
    for level in levels:
        options = EngineOptions(kind="openai", base_urls=servers.urls(), concurrency=level)
        pool = EnginePool(options)
        model = resolve_served("stand-in", options)
        servers.peak = 0
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate_stage(pool, model, items, SamplingParams(max_new_tokens=4),
                           Ledger(Path(tmp) / "g.jsonl", Generation), 1024, lambda d, t: None)
            wall = time.perf_counter() - start
        engine = pool.current
        rates[level] = args.prompts / wall
        print(f"--concurrency {level:4d}: peak in flight {servers.peak:4d} at the servers, "
              f"{getattr(engine, 'peak_in_flight', 0):4d} in the engine; {wall:6.2f} s = "
              f"{rates[level]:7.1f} requests/s")
        pool.close()
    low, high = levels[0], levels[-1]
    print(f"capacity {args.servers * args.slots} in flight: throughput flattens beyond it")
    print(f"concurrency {high}/{low} throughput {rates[high] / rates[low]:.2f}x")


if __name__ == "__main__":
    main()
