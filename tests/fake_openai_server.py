"""A local OpenAI-compatible chat-completions server for judge tests and the judge benchmark.

Stdlib only (``http.server`` in a thread), bound to 127.0.0.1. It answers like a judge would for the
four built-in templates, counts every request (total, per request body, answered), and injects faults
on demand through markers written into the judged response text:

``@fault:429x2``  first 2 requests for these messages: HTTP 429 with ``Retry-After``
``@fault:500x2``  first 2: HTTP 500           ``@fault:slowx1``  first: answer after ``slow_s`` (past the timeout)
``@fault:malformed``  always a 200 whose body is not JSON   ``@fault:400``  always HTTP 400
``@fault:empty``  always an empty answer       ``@fault:rating7``  always ``[[7]]``
``@fault:badjson``  always invalid JSON (criteria)   ``@fault:badjson_once``  invalid JSON the first time
``@rate:N``  the rating to give (default 2)    ``@style:K``  write the rating in style K (see STYLES)
``@good``  pairwise: the answer holding it wins   ``@biasA``  pairwise: always answer A (order-biased judge)
``@irrelevant``  relevance 0
``@reply:TEXT``  answer TEXT (the rest of the line; a distillation's answer)   ``@fault:length``  finish_reason "length"

Run as a script (``python tests/fake_openai_server.py --delay 0.1``) it prints its port and serves
until killed; ``GET /stats`` returns the counters as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STYLES = {
    0: "The answer is relevant and correct but lacks detail. Rating: [[{r}]]",
    1: "The response is adequate.\n\nRating: {r}",
    2: "Solid answer overall. [[{r}.0]]",
    3: "Helpful, in the right language. I would rate it {r}/3.",
    4: "**Explanation:** fine.\n\n**Rating:** [[{r}]]",
    5: "Overall, rating: **{r}**",
    6: "{r}",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


class FakeJudgeServer:
    def __init__(self, delay: float = 0.0, api_key: str | None = None, retry_after: float = 0.05,
                 slow_s: float = 1.0, model: str = "fake-judge-0613"):
        self.delay, self.api_key, self.retry_after, self.slow_s, self.model = delay, api_key, retry_after, slow_s, model
        self.lock = threading.Lock()
        self.requests = 0
        self.by_body: Counter = Counter()      # every request, by exact body
        self.answered: Counter = Counter()     # 200 answers with a judgment, by exact body
        self.faults: Counter = Counter()       # requests per (marker, messages)
        self.times: dict[str, list[float]] = {}  # arrival times per messages
        self.bodies: list[dict] = []           # every parsed request body, in arrival order
        self.hang_after: int | None = None     # let this many requests through, then hold every further one
        self._granted = 0
        self.released = threading.Event()
        self._httpd = None
        self._thread = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "FakeJudgeServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server._send(self, 200, server.stats())

            def do_POST(self):
                server._handle(self)

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with self.lock:
            return {"requests": self.requests, "answered": sum(self.answered.values()),
                    "distinct_answered": len(self.answered), "max_answered_per_body": max(self.answered.values(), default=0)}

    # ------------------------------------------------------------ answering
    @staticmethod
    def _send(handler, status: int, payload, headers: dict | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        try:
            handler.send_response(status)
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _fault_count(self, marker: str, messages_key: str) -> int:
        with self.lock:
            self.faults[(marker, messages_key)] += 1
            return self.faults[(marker, messages_key)]

    def _handle(self, handler) -> None:
        body_bytes = handler.rfile.read(int(handler.headers.get("content-length", 0)))
        body_key = hashlib.sha256(body_bytes).hexdigest()
        with self.lock:
            self.requests += 1
            self.by_body[body_key] += 1
            hold = self.hang_after is not None and self._granted >= self.hang_after
            self._granted += not hold
        if self.api_key is not None and handler.headers.get("authorization") != f"Bearer {self.api_key}":
            given = (handler.headers.get("authorization") or "").removeprefix("Bearer ")
            return self._send(handler, 401, {"error": {"message": f"Incorrect API key provided: {given}.",
                                                       "type": "invalid_request_error", "code": "invalid_api_key"}})
        if hold:
            self.released.wait(60)
            return self._send(handler, 503, {"error": {"message": "released"}})
        body = json.loads(body_bytes)
        messages = body["messages"]
        text = "\n".join(m["content"] for m in messages)
        messages_key = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        with self.lock:
            self.times.setdefault(messages_key, []).append(time.monotonic())
            self.bodies.append(body)
        for marker, status in (("429", 429), ("500", 500)):
            match = re.search(rf"@fault:{marker}x(\d+)", text)
            if match and self._fault_count(marker, messages_key) <= int(match.group(1)):
                headers = {"Retry-After": str(self.retry_after)} if status == 429 else {}
                return self._send(handler, status, {"error": {"message": f"injected {status}", "type": "server"}},
                                  headers)
        match = re.search(r"@fault:slowx(\d+)", text)
        late = bool(match and self._fault_count("slow", messages_key) <= int(match.group(1)))
        if late:  # past the client's timeout: the answer is sent but never received, so not counted
            time.sleep(self.slow_s)
        if "@fault:malformed" in text:
            return self._send(handler, 200, None, raw=b'{"id": "x", "choices": [{"mess')
        if "@fault:400" in text:
            return self._send(handler, 400, {"error": {"message": "context length exceeded", "type": "invalid"}})
        if self.delay:
            time.sleep(self.delay)
        content = self._judge(body, text, messages_key)
        if not late:
            with self.lock:
                self.answered[body_key] += 1
        usage = {"prompt_tokens": len(text) // 4 + 7, "completion_tokens": len(content) // 4 + 1}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self._send(handler, 200, {
            "id": "chatcmpl-" + body_key[:12], "object": "chat.completion", "created": int(time.time()),
            "model": self.model, "system_fingerprint": "fp_fake123",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "length" if "@fault:length" in text else "stop"}],
            "usage": usage})

    def _judge(self, body: dict, text: str, messages_key: str) -> str:
        """An answer in the format the prompt asks for, shaped by the markers."""
        if "@fault:empty" in text:
            return ""
        if (reply := re.search(r"@reply:(.*)", text)) is not None:
            return reply.group(1).strip()
        rating = int(m.group(1)) if (m := re.search(r"@rate:(\d+)", text)) else 2
        if "Assistant 1's Answer]" in text:  # pairwise, the Vicuna review: two 0-10 scores on the first line
            a, b = _between(text, "Assistant 1's Answer]"), _between(text, "Assistant 2's Answer]")
            first, second = (9 if "@good" in a else 6), (9 if "@good" in b else 6)
            return f"{first} {second}\nAssistant 1 scores {first}, assistant 2 scores {second}."
        if "[[A]]" in text:  # pairwise
            if "@biasA" in text:
                return "Assistant A is more detailed. [[A]]"
            a, b = _between(text, "Assistant A's Answer]"), _between(text, "Assistant B's Answer]")
            if "@good" in a and "@good" not in b:
                return "Assistant A follows the instruction better.\n\n[[A]]"
            if "@good" in b and "@good" not in a:
                return "Assistant B is better.\n\n[[B]]"
            return "Both are similar. [[C]]"
        if "Output a json dictionary with scores for 6 specified criteria" in text:  # criteria JSON (Table 2)
            if "@fault:badjson_once" in text and self._fault_count("badjson_once", messages_key) == 1:
                return '{"helpfulness": 2, "fluency": '
            if "@fault:badjson" in text and "@fault:badjson_once" not in text:
                return "helpfulness: good, fluency: fine"
            scores = {k: rating for k in ("Language", "Fluency", "Helpfulness", "Accuracy", "Logical coherence",
                                          "Harmlessness")}  # the aspects the prompt names
            return "```json\n" + json.dumps(scores) + "\n```"
        if "Print 0 or 1." in text:  # relevance (Table 3): the last 0/1 digit is read
            return "Relevance to the task, 0 or 1: " + ("0" if "@irrelevant" in text else "1")
        if "@fault:rating7" in text:
            return "Excellent. Rating: [[7]]"
        style = int(m.group(1)) if (m := re.search(r"@style:(\d+)", text)) else 0
        return STYLES[style].format(r=rating)


def _between(text: str, start: str) -> str:
    i = text.find(start)
    j = text.find("[The End of", i)
    return text[i:j] if i >= 0 else ""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    server = FakeJudgeServer(delay=args.delay).start()
    print(server.port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
