"""Predictions through a served model's Service, for the end-to-end tests: one request, or a
steady stream of them in a thread, as users would send them."""

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

Answer = tuple[int, str]  # (HTTP status, the answering version, or the error)


def infer(address: str, model: str, inputs: list[dict[str, Any]], check: Callable[[dict], None] = lambda _: None
          ) -> Answer:
    """One Open Inference Protocol request; `check` looks at a 200's body."""
    request = urllib.request.Request(f"http://{address}/v2/models/{model}/infer",
                                     json.dumps({"inputs": inputs}).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
            check(answer)
            return response.status, answer["model_version"]
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except OSError as error:
        return 0, f"{type(error).__name__}: {error}"


class Traffic:
    """Calls `send` every `interval` seconds in a thread until finished, keeping every answer."""

    def __init__(self, send: Callable[[], Answer], interval: float = 0.05):
        self.answers: list[Answer] = []
        self._send, self._interval, self._stop = send, interval, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.answers.append(self._send())

    def finish(self) -> list[Answer]:
        self._stop.set()
        self._thread.join(30)
        return self.answers

    def failed(self) -> list[Answer]:
        return [a for a in self.answers if a[0] != 200]
