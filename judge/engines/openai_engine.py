"""Engine for any OpenAI-compatible server (`vllm serve`, a fleet behind a router, a hosted API).

Requests run concurrently (`concurrency` in flight at once, over all servers; each reply handed
on the moment it arrives) and are spread round-robin over every server that lists the model in
/v1/models, so several `vllm serve` processes act as one data-parallel engine. 429, 5xx,
timeouts and dropped connections are retried with exponential backoff; after the last retry the
call fails with ServiceError: the replies handed on before it are kept (the stage has saved
them), the requests still in flight are cancelled. A server
that answers with something other than the OpenAI shapes (an HTML page with status 200, JSON of
another form) is a ServiceError too, one line; a --base-url that is no http(s) URL is an
InputError, found before anything runs.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from judge.engines import Chat, EngineOptions, Streams, renormalise
from judge.errors import InputError, ServiceError, first_line
from judge.models.refs import local_fingerprint
from judge.records import Completion, Grammar, ModelInfo, SamplingParams
from judge.runs.ledger import content_key

TOP_LOGPROBS = 20
RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


def headers(options: EngineOptions) -> dict[str, str]:
    return {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}


def check_url(url: str) -> None:
    """A --base-url must be an http(s) URL with a host; anything else is bad input."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as err:
        raise InputError(f"--base-url {url!r} is not a valid URL ({first_line(err)})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(f"--base-url {url!r} is not an http(s) URL with a host "
                         "(e.g. http://127.0.0.1:8000/v1)")


def list_models(url: str, options: EngineOptions) -> list[dict]:
    """The server's /models entries (each with an `id`); anything else is one ServiceError."""
    check_url(url)
    try:
        reply = httpx.get(f"{url.rstrip('/')}/models", headers=headers(options),
                          timeout=min(options.request_timeout, 60.0))
        reply.raise_for_status()
        data = reply.json()
    except (httpx.HTTPError, ValueError) as err:
        raise ServiceError(f"server {url} does not answer /models ({type(err).__name__}: "
                           f"{first_line(err)})") from None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(m, dict) and isinstance(m.get("id"), str)
                                                for m in entries):
        raise ServiceError(f"server {url} answers /models with something other than an OpenAI "
                           "model list ({\"data\": [{\"id\": ...}]})")
    return entries


def non_vllm_server(options: EngineOptions) -> str | None:
    """The first server that does not say it is vLLM (its /models entries are `owned_by: vllm`),
    or None when every one is."""
    for url in options.base_urls:
        entries = list_models(url, options)
        if not entries or any(m.get("owned_by") != "vllm" for m in entries):
            return url
    return None


def resolve_served(ref: str, options: EngineOptions) -> ModelInfo:
    """A model name served by the given servers. Where the server reports a local folder (vLLM's
    `root`), the fingerprint is that folder's, so cache keys equal the in-process engines'."""
    if not options.base_urls:
        raise InputError("--engine openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
    entries = [m for url in options.base_urls for m in list_models(url, options) if m["id"] == ref]
    if not entries:
        raise InputError(f"no server at {', '.join(options.base_urls)} serves model '{ref}'")
    root = Path(str(entries[0].get("root") or ""))
    if root.is_dir() and (root / "config.json").is_file():
        fingerprint = local_fingerprint(root)
    else:
        fingerprint = content_key("served", ref, str(entries[0].get("root")))
    return ModelInfo(ref=ref, path=str(root) if root.is_dir() else ref, fingerprint=fingerprint,
                     dtype=options.dtype)


class OpenAIEngine(Streams):
    def __init__(self, model: ModelInfo, options: EngineOptions) -> None:
        if options.engine_args:
            raise InputError("engine arguments go to vLLM or transformers; the openai engine "
                             f"takes none (given: {', '.join(options.engine_args)})")
        self.model = model
        self.options = options
        self.servers = [url.rstrip("/") for url in options.base_urls
                        if any(m["id"] == model.ref for m in list_models(url, options))]
        if not self.servers:
            raise InputError(f"no server serves model '{model.ref}'")
        self.in_flight = 0
        self.peak_in_flight = 0  # the most requests ever in flight at once (bench/concurrency.py)

    def stream(
        self, chats: Sequence[Chat], params: SamplingParams, labels: Sequence[str] | None = None,
        grammar: Grammar | None = None,
    ) -> Iterator[tuple[int, Completion]]:
        body: dict = {"max_tokens": params.max_new_tokens, "temperature": params.temperature}
        if params.temperature > 0:
            body["seed"] = params.seed
        if grammar is not None:  # vLLM's own request field (a vLLM server is checked for first)
            body["structured_outputs"] = grammar.request()
        if labels is not None:  # the same chat completion also reports its tokens' top log-probs
            body |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
        loop = asyncio.new_event_loop()
        try:
            for index, reply in self._replies(loop, chats, body):
                yield index, completion_of(reply, labels)
        finally:
            loop.close()

    def _replies(self, loop: asyncio.AbstractEventLoop, chats: Sequence[Chat],
                 body: dict) -> Iterator[tuple[int, dict]]:
        """Every request started at once on `loop`, `concurrency` of them past the gate at a
        time; replies handed on as they arrive. The loop runs only between two replies, so a
        consumer that stops early cancels whatever is still in flight."""
        limit = asyncio.Semaphore(self.options.concurrency)
        servers = itertools.cycle(self.servers)
        timeout = httpx.Timeout(self.options.request_timeout, connect=10.0)
        # one connection per request in flight: httpx's default pool (100) would cap it
        pool = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        client = httpx.AsyncClient(timeout=timeout, headers=headers(self.options), limits=pool)

        async def one(index: int, url: str, payload: dict) -> tuple[int, dict]:
            return index, await self._post(client, limit, url, payload)

        pending = {loop.create_task(one(i, next(servers), body | {
            "model": self.model.ref, "messages": [m.model_dump() for m in chat]}))
            for i, chat in enumerate(chats)}
        try:
            while pending:
                done, pending = loop.run_until_complete(
                    asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED))
                failed = [t.exception() for t in done if t.exception() is not None]
                for task in done:  # the replies that came are handed on before a failure
                    if task.exception() is None:
                        yield task.result()
                if failed:
                    raise failed[0]  # type: ignore[misc]
        finally:
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(client.aclose())

    async def _post(self, client: httpx.AsyncClient, limit: asyncio.Semaphore, url: str,
                    payload: dict) -> dict:
        problem = ""
        for attempt in range(self.options.max_retries + 1):
            if attempt:
                await asyncio.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
            async with limit:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    reply = await client.post(f"{url}/chat/completions", json=payload)
                except (httpx.TimeoutException, httpx.TransportError) as err:
                    problem = f"{type(err).__name__} from {url}"
                    continue
                finally:
                    self.in_flight -= 1
            if reply.status_code in RETRY_STATUS:
                problem = f"HTTP {reply.status_code} from {url}"
                continue
            if reply.status_code >= 400:
                raise ServiceError(f"{url} refused the request: HTTP {reply.status_code} "
                                   f"{reply.text[:200]}")
            try:
                found = reply.json()
            except ValueError:
                raise ServiceError(f"{url} answered /chat/completions with no JSON (HTTP "
                                   f"{reply.status_code}, {reply.headers.get('content-type')}); "
                                   f"{KEPT}") from None
            if not isinstance(found, dict):
                raise ServiceError(f"{url} answered /chat/completions with JSON that is not "
                                   f"an object; {KEPT}")
            return found
        raise ServiceError(f"model server failed after {self.options.max_retries + 1} attempts "
                           f"({problem}); {KEPT}")

    def close(self) -> None:
        pass


KEPT = "the replies that came before it are saved, a rerun asks only for the rest"


def completion_of(reply: dict, labels: Sequence[str] | None) -> Completion:
    try:
        return Completion(text=(reply["choices"][0]["message"]["content"] or "").strip(),
                          tokens=int((reply.get("usage") or {}).get("completion_tokens") or 0),
                          label_probs=label_probs_of(reply, labels) if labels is not None
                          else None)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise ServiceError(f"model server answered /chat/completions with something other "
                           f"than an OpenAI chat completion ({type(err).__name__}: "
                           f"{first_line(err)}); {KEPT}") from None


def label_probs_of(reply: dict, labels: Sequence[str]) -> dict[str, float]:
    """Label probabilities from top_logprobs of the first generated token.

    Servers return token text, not ids: a label takes the longest top token that is a prefix of it
    (for "A" that is "A"; for "tie" it is "tie" when present, else "ti" or "t").
    """
    content = ((reply["choices"][0].get("logprobs") or {}).get("content") or [])
    if not content:
        return {}
    top = {entry["token"]: entry["logprob"] for entry in content[0].get("top_logprobs", [])}
    raw = {}
    for label in labels:
        prefixes = [t for t in top if t and label.startswith(t)]
        raw[label] = math.exp(top[max(prefixes, key=len)]) if prefixes else 0.0
    return renormalise(raw)
