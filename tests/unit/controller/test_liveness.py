"""The liveness endpoint over HTTP: 200 while the API server answers, 503 once it has not for the
grace period, one check for requests that come together."""

import asyncio
import json
import urllib.error
import urllib.request

from mlops_operator.controller.liveness import LivenessEndpoint

from support import free_port


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_endpoint_answers_503_only_after_the_grace_period_and_checks_once_a_second():
    clock, outcomes, asked = Clock(), iter([None, "ConnectError: refused", "ConnectError: refused", None]), []

    async def check():
        asked.append(clock.now)
        return next(outcomes)

    async def scenario():
        endpoint = LivenessEndpoint(check, clock)
        url = f"http://127.0.0.1:{free_port()}/healthz"
        await endpoint.serve(url)
        try:
            answers = []
            for now in (100.0, 100.5, 110.0, 116.0, 120.0):
                clock.now = now
                answers.append(await asyncio.to_thread(get, url))
            return answers
        finally:
            await endpoint.stop()

    answers = asyncio.run(scenario())
    assert [code for code, _ in answers] == [200, 200, 200, 503, 200]
    assert asked == [100.0, 110.0, 116.0, 120.0]  # 100.5 reused the check of 100.0
    assert answers[3][1] == {"alive": False, "message": "the API server has not answered for 6s: ConnectError: refused"}
    assert answers[4][1] == {"alive": True, "message": "the API server answers"}
