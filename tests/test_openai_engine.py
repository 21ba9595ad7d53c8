"""The openai engine against a real `vllm serve` of the bundled model on 127.0.0.1.

The session's one server serves the bundled model: these tests read label probabilities through
it, which the server takes from its top 20 log-probs, where only a real judge puts the labels
(tests/conftest.py); the retry, failure and key tests share it at no extra cost.

Failures are injected by a small forwarding proxy in front of the real server: it answers 500 or
stalls for the first requests of a plan, then passes requests through unchanged.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from judge.engines import EngineOptions
from judge.engines.openai_engine import OpenAIEngine, resolve_served
from judge.errors import InputError, ServiceError
from judge.pipeline.compare import CompareConfig, run_compare
from judge.records import Message, SamplingParams
from judge.templates.template import load_template, read_template

pytestmark = pytest.mark.slow
CHATS = [[Message(role="user", content="What is the capital of France?")],
         [Message(role="user", content="Name a fruit.")]]


class Proxy:
    """Forwards to `target`; POSTs consume `plan` entries first: "500" or "stall" (seconds)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.plan: list[str] = []
        self.seen_auth: list[str | None] = []
        self.posts = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                reply = httpx.request(method, proxy.target + self.path.removeprefix("/v1"),
                                      content=body or None, timeout=300,
                                      headers={"Content-Type": "application/json"})
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                proxy.posts += 1
                proxy.seen_auth.append(self.headers.get("Authorization"))
                step = proxy.plan.pop(0) if proxy.plan else "pass"
                if step == "500":
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if step == "stall":
                    threading.Event().wait(3)
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def proxy(vllm_server):
    p = Proxy(vllm_server)
    yield p
    p.close()


def options(*urls: str, **extra) -> EngineOptions:
    return EngineOptions(kind="openai", base_urls=urls, **extra)


def test_generation_and_label_probabilities_through_the_server(vllm_server, smollm2):
    model = resolve_served("smollm2", options(vllm_server))
    assert model.fingerprint == smollm2.fingerprint  # same folder: same cache keys as in-process
    engine = OpenAIEngine(model, options(vllm_server))
    done = engine.generate(CHATS, SamplingParams(max_new_tokens=16))
    assert "Paris" in done[0].text and all(0 < c.tokens <= 16 for c in done)
    template = load_template("pairwise")
    chat = template.render(instruction="Capital of France?", answer_a="Paris.", answer_b="Rome.")
    (probs,) = engine.label_probs([chat], template.labels)
    assert set(probs) == {"A", "B", "tie"} and sum(probs.values()) == pytest.approx(1.0)


def test_served_label_probabilities_match_in_process_vllm(vllm_server, engines):
    template = load_template("pairwise")
    chat = template.render(instruction="2+2?", answer_a="5", answer_b="4")
    served = OpenAIEngine(resolve_served("smollm2", options(vllm_server)), options(vllm_server))
    (remote,) = served.label_probs([chat], template.labels)
    (local,) = engines("vllm").label_probs([chat], template.labels)
    assert set(remote) == set(local) == {"A", "B", "tie"}
    for label in local:
        assert remote[label] == pytest.approx(local[label], abs=0.02), label


def test_text_and_label_probabilities_come_from_one_request(proxy):
    """--verdict both through a real server: one chat completion per judgment carries the text
    and its first token's label probabilities, equal to a one-token request's."""
    opts = options(proxy.url)
    engine = OpenAIEngine(resolve_served("smollm2", opts), opts)
    template = load_template("pairwise")
    chats = [template.render(instruction="Capital of France?", answer_a=a, answer_b=b)
             for a, b in (("Paris.", "Rome."), ("Rome.", "Paris."))]
    params = SamplingParams(max_new_tokens=16)
    done = engine.generate(chats, params, template.labels)
    assert proxy.posts == 2
    assert all(c.text and 0 < c.tokens <= 16 for c in done)
    text_only = engine.generate(chats, params)
    assert proxy.posts == 4 and all(c.label_probs is None for c in text_only)
    assert [c.text for c in done] == [c.text for c in text_only]
    alone = engine.label_probs(chats, template.labels)
    assert proxy.posts == 6
    for c, p in zip(done, alone, strict=True):
        assert c.label_probs is not None and set(c.label_probs) == set(p) == {"A", "B", "tie"}
        assert sum(c.label_probs.values()) == pytest.approx(1.0)
        assert all(c.label_probs[lab] == pytest.approx(p[lab], abs=1e-3) for lab in p)


def test_a_vllm_server_holds_replies_to_choice_regex_and_json(vllm_server):
    """vLLM's `structured_outputs` request field, on the real server: a choice of labels, a
    reason-first regex and a JSON schema each hold every reply to what the parser reads."""
    from judge.pipeline.structured import constrains_replies
    from judge.templates.grammar import grammar_for

    opts = options(vllm_server)
    assert constrains_replies(opts) is None  # the server says it is vLLM
    engine = OpenAIEngine(resolve_served("smollm2", opts), opts)
    params = SamplingParams(max_new_tokens=48)
    pairwise = load_template("pairwise")
    chats = [pairwise.render(instruction="Capital of France?", answer_a=a, answer_b=b)
             for a, b in (("Paris.", "Rome."), ("Rome.", "Paris."))]
    done = engine.generate(chats, params, pairwise.labels,
                           grammar=grammar_for(pairwise, 48).grammar)
    assert all(c.text in pairwise.labels and c.label_probs for c in done)
    data = Path(__file__).parent / "data" / "importers"
    for ref in (f"{data / 'fastchat' / 'judge_prompts.jsonl'}#pair-v2",
                str(data / "alpaca_eval" / "evaluators_configs" / "ranking_judge")):
        template = read_template(ref)
        chats = [template.render(instruction="Capital of France?", answer_a=a, answer_b=b)
                 for a, b in (("Paris.", "Rome."), ("Rome.", "Paris."))]
        grammar = grammar_for(template, 48).grammar
        for c in engine.generate(chats, params, grammar=grammar):
            assert template.parse(c.text) in template.labels, c.text
            if grammar.regex:
                assert re.fullmatch(grammar.regex, c.text)


def test_retries_500_and_stalls_then_succeeds(proxy):
    opts = options(proxy.url, request_timeout=1.5, max_retries=3)
    engine = OpenAIEngine(resolve_served("smollm2", opts), opts)
    proxy.plan = ["500", "stall", "500"]
    (done,) = engine.generate(CHATS[:1], SamplingParams(max_new_tokens=4))
    assert done.text and proxy.posts == 4


def test_persistent_failure_is_a_clear_error_and_nothing_is_cached(proxy, tmp_path):
    opts = options(proxy.url, max_retries=1)
    proxy.plan = ["500"] * 50
    config = CompareConfig(base="smollm2", tuned="smollm2", limit=2, max_new_tokens=8,
                           out=str(tmp_path / "run"), cache_dir=str(tmp_path), engine=opts)
    with pytest.raises(ServiceError, match="failed after 2 attempts.*HTTP 500"):
        run_compare(config, lambda name, total: lambda done, tokens: None)
    assert not list((tmp_path / "run").rglob("*.jsonl")) or all(
        p.read_text() == "" for p in (tmp_path / "run").rglob("*.jsonl"))


def test_server_down_is_one_service_error():
    with pytest.raises(ServiceError, match="does not answer"):
        resolve_served("smollm2", options("http://127.0.0.1:9/v1"))


def test_unknown_served_model_is_an_input_error(vllm_server):
    with pytest.raises(InputError, match="serves model 'gpt-9'"):
        resolve_served("gpt-9", options(vllm_server))


def test_cache_is_shared_with_the_in_process_engines(vllm_server, real_loader, cache_dir, tmp_path,
                                                     proxy):
    common = dict(base="smollm2", tuned="smollm2", limit=2, max_new_tokens=16,
                  judge_max_new_tokens=8, out=str(tmp_path / "run"), cache_dir=str(cache_dir),
                  bootstrap=200)
    local = run_compare(CompareConfig(**common, engine=EngineOptions(kind="vllm")),
                        lambda name, total: lambda done, tokens: None, real_loader)
    served = run_compare(
        CompareConfig(**common, engine=options(proxy.url, api_key="sk-test-secret-7")),
        lambda name, total: lambda done, tokens: None)
    assert proxy.posts == 0  # every generation and judgment came from the cache
    assert served.pairwise == local.pairwise
    run_json = (tmp_path / "run" / "run.json").read_text()
    assert json.loads(run_json)["config"]["engine"]["base_urls"] == [proxy.url]
    assert all("sk-test-secret-7" not in p.read_text(errors="ignore")
               for p in (tmp_path / "run").rglob("*") if p.is_file())


def test_api_key_is_sent_but_never_written(proxy, tmp_path, cache_dir):
    opts = options(proxy.url, api_key="sk-test-secret-9")
    config = CompareConfig(base="smollm2", tuned="smollm2", limit=1, max_new_tokens=8,
                           judge_max_new_tokens=4, temperature=0.5, out=str(tmp_path / "run"),
                           cache_dir=str(cache_dir), engine=opts, bootstrap=200)
    run_compare(config, lambda name, total: lambda done, tokens: None)
    assert proxy.seen_auth and set(proxy.seen_auth) == {"Bearer sk-test-secret-9"}
    assert all("sk-test-secret-9" not in p.read_text(errors="ignore")
               for p in (tmp_path / "run").rglob("*") if p.is_file())
