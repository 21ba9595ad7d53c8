"""Run folders with more than one writer, and servers that answer wrongly.

- A run folder (leaderboard, sweep folder) has one writer: a second process gets one line naming
  the folder and the holder's pid, exit 2; the lock of a killed process is taken over.
- A compare whose record settings differ from the run a folder holds is refused, nothing changed.
- An OpenAI-compatible server answering HTML with status 200, JSON of the wrong shape, or too
  slowly for --request-timeout: exit 1 with one line. The server here is a real HTTP server (the
  standard library's) that answers wrongly on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import judge_cli, run_judge, snapshot
from scenes import Setup

from judge.errors import InputError
from judge.runs.lock import LOCK_NAME, folder_lock

HOLD = ("import sys, time; from pathlib import Path; from judge.runs.lock import folder_lock\n"
        "with folder_lock(Path(sys.argv[1]), 'run folder'):\n"
        "    print('held', flush=True); time.sleep(120)\n")


def hold(folder: Path) -> subprocess.Popen:
    """Another process holding the folder's lock."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    setup = Setup(tmp_path)
    setup.replies = {"": "A"}
    setup.run()
    run = tmp_path / "run"
    before = snapshot(run)
    holder = hold(run)
    try:
        with pytest.raises(InputError, match=rf"run folder .*run is in use by another judge "
                                             rf"process \(pid {holder.pid} on "):
            setup.run()
        # the same from the command line: `judge report` rewrites the run's views
        line = judge_cli("report", str(run)).error_line()
        assert f"pid {holder.pid}" in line and str(run) in line
    finally:
        holder.kill()
        holder.wait()
    assert snapshot(run) == {**before, LOCK_NAME: snapshot(run)[LOCK_NAME]}
    # the holder was killed: its lock file is left, its flock is gone, the next run takes over
    assert (run / LOCK_NAME).is_file()
    setup.run()
    assert not (run / LOCK_NAME).exists()


def test_a_lock_is_released_by_an_error_and_held_by_one_process_only(tmp_path):
    with pytest.raises(RuntimeError), folder_lock(tmp_path / "f", "folder"):
        raise RuntimeError("boom")
    assert not (tmp_path / "f" / LOCK_NAME).exists()
    with folder_lock(tmp_path / "f", "folder"), pytest.raises(InputError, match="in use"), \
            folder_lock(tmp_path / "f", "folder"):
        pass


@pytest.mark.parametrize(("change", "message"), [
    ({"max_new_tokens": 99}, "max_new_tokens: 256 there, 99 now"),
    ({"seed": 7}, "seed: 0 there, 7 now"),
    ({"verdict": "text"}, "verdict: 'both' there, 'text' now"),
    ({"limit": 2}, "of which this run leaves out"),
])
def test_a_run_of_other_settings_is_refused_and_changes_nothing(tmp_path, change, message):
    setup = Setup(tmp_path)
    setup.replies = {"": "A"}
    setup.run()
    before = snapshot(tmp_path / "run")
    with pytest.raises(InputError, match=message):
        setup.run(**change)
    assert snapshot(tmp_path / "run") == before


def test_same_settings_resume_and_more_prompts_extend(tmp_path):
    setup = Setup(tmp_path)
    setup.replies = {"": "A"}
    assert setup.run(limit=2)["pairwise"]["n"] == 2
    assert setup.run(limit=2, confidence=0.9, chunk=1)["pairwise"]["n"] == 2  # no record changes
    assert setup.run()["pairwise"]["n"] == 3  # a superset of the prompts extends the run
    assert setup.run(controls=0)["pairwise"]["n"] == 3  # control pairs: a ledger of their own


# --- servers that answer wrongly ------------------------------------------------------------

class Wrong(BaseHTTPRequestHandler):
    """Answers as `self.server.mode` says."""

    def do_GET(self) -> None:  # noqa: N802
        mode = self.server.mode  # type: ignore[attr-defined]
        if mode == "slow-models":
            time.sleep(5)
        if mode == "html-models":
            self.reply(200, "<html><body>login</body></html>", "text/html")
        elif mode == "list-models":
            self.reply(200, "[]")
        else:
            self.reply(200, json.dumps({"data": [{"id": "judge", "object": "model"}]}))

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        mode = self.server.mode  # type: ignore[attr-defined]
        body = {"html-chat": "<html>oops</html>", "shape-chat": json.dumps({"choices": []}),
                "scalar-chat": "42"}.get(mode, "{}")
        self.reply(200, body, "text/html" if mode == "html-chat" else "application/json")

    def reply(self, status: int, body: str, kind: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up on a wrong answer is what these tests provoke


@pytest.fixture(scope="module")
def server():
    httpd = Server(("127.0.0.1", 0), Wrong)
    httpd.mode = "ok"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(("mode", "message"), [
    ("html-models", "does not answer /models (JSONDecodeError"),
    ("list-models", "something other than an OpenAI model list"),
    ("slow-models", "does not answer /models (ReadTimeout"),
    ("html-chat", "with no JSON (HTTP 200, text/html)"),
    ("shape-chat", "something other than an OpenAI chat completion"),
    ("scalar-chat", "JSON that is not an object"),
])
def test_a_server_answering_wrongly_is_one_line_exit_1(server, tmp_path, mode, message):
    server.mode = mode
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a", "b"):
        rows = [{"instruction": f"Q{i}?", "output": f"{name} {i}", "generator": name}
                for i in range(2)]
        (inputs / f"{name}.json").write_text(json.dumps(rows))
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    before = snapshot(inputs)
    code, _, err, seconds = run_judge([
        "compare", str(inputs / "a.json"), str(inputs / "b.json"), "--judge", "judge",
        "--engine", "openai", "--base-url", url, "--request-timeout", "1", "--max-retries", "0",
        "--controls", "0", "--out", str(tmp_path / "out")])
    # the answers files' sides are "generated" (their progress bars show) before the judge fails
    (line,) = [line for line in err.splitlines() if line.startswith("judge:")]
    assert code == 1 and "Traceback" not in err and message in line, err
    assert seconds < 4.5  # --request-timeout holds for /models too
    assert snapshot(inputs) == before


def test_killed_holder_leaves_no_lock_held(tmp_path):
    """A holder killed by SIGKILL: the kernel drops its flock at once."""
    holder = hold(tmp_path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with folder_lock(tmp_path, "folder"):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()


def test_a_torn_last_line_is_one_rule_for_prompt_and_answers_files(tmp_path):
    """Both files lose their torn last line with the same warning, and the run goes on (here to
    the judge's unreachable server, exit 1); a broken line before the last is exit 2 in both,
    naming the line."""
    rows = [{"instruction": f"Q{i}?", "output": f"answer {i}", "generator": "m"} for i in range(3)]
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "a.jsonl").write_text(lines)
    (tmp_path / "torn.jsonl").write_text(lines + '{"instruction": "Q3?", "outp')
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"prompt": f"Q{i}?"}) + "\n"
                                              for i in range(3)) + '{"prompt": "Q')
    dead = ["--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0",
            "--out", str(tmp_path / "out")]
    for args, torn in (([str(tmp_path / "torn.jsonl"), str(tmp_path / "a.jsonl")], "torn.jsonl"),
                       ([str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl"), "--prompts",
                         str(tmp_path / "p.jsonl")], "p.jsonl")):
        code, _, err, _ = run_judge(["compare", *args, *dead])
        assert code == 1 and f"{torn}:4: dropping a torn last line" in err, err
    (tmp_path / "p.jsonl").write_text('{"prompt": "Q0?"}\n{"prompt": \n{"prompt": "Q1?"}\n')
    code, _, err, _ = run_judge(["compare", str(tmp_path / "a.jsonl"), str(tmp_path / "a.jsonl"),
                                 "--prompts", str(tmp_path / "p.jsonl"), *dead])
    assert code == 2 and "p.jsonl:2: not a JSON object" in err, err


def misleading(tmp: Path, case: str) -> tuple[list[str], str]:
    """(arguments, what the one error line must say) of messages that used to mislead."""
    answers = tmp / "a.json"
    answers.write_text(json.dumps([{"instruction": "Q?", "output": "A.", "generator": "m"}]))
    dead = ["--engine", "openai", "--base-url", "http://127.0.0.1:9/v1", "--out", str(tmp / "o")]
    local = ["--engine", "hf", "--out", str(tmp / "o")]  # models resolved here: fails first
    if case == "missing local model folder":
        (tmp / "out").mkdir()
        return ["compare", "out/tuned", str(answers), *local], "model folder out/tuned does not"
    if case == "missing local prompt file":
        return (["compare", str(answers), str(answers), "--prompts", "data/prompts.jsonl", *dead],
                "no such file here")
    if case == "markup in a path":
        return ["stats", str(tmp / ":fire: [bold]x[/bold].jsonl")], ":fire: [bold]x[/bold].jsonl"
    if case == "JSONL error line":
        (tmp / "p.jsonl").write_text('{"prompt": "a"}\n{"prompt": oops}\n{"prompt": "b"}\n')
        return (["compare", str(answers), str(answers), "--prompts", str(tmp / "p.jsonl"), *dead],
                "p.jsonl:2: not a JSON object")
    folder = tmp / "broken-tokenizer"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    (folder / "tokenizer_config.json").write_text('{"tokenizer_class": ')
    return ["compare", str(folder), str(answers), *local], "tokenizer_config.json is not valid JSON"


@pytest.mark.parametrize("case", ["missing local model folder", "missing local prompt file",
                                  "markup in a path", "JSONL error line", "broken tokenizer"])
def test_messages_say_what_is_wrong(tmp_path, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    args, message = misleading(tmp_path, case)
    before = snapshot(tmp_path)
    code, _, err, _ = run_judge(args)
    (line,) = err.strip().splitlines()
    assert code == 2 and message in line, err
    assert snapshot(tmp_path) == before
