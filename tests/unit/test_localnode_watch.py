"""The node agent's pod watch: transient errors are retried (list again, reconcile the workers),
others end the watch so the agent can end visibly."""

import asyncio

import httpx2
import pytest
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import Status

from localnode import pods as pods_module
from localnode.apierrors import backoff, describe, retryable
from localnode.pods import PodManager


def api_error(code: int, message: str = "") -> ApiError:
    return ApiError(status=Status(code=code, message=message or f"error {code}", reason="Reason"))


def http_status_error(code: int) -> httpx2.HTTPStatusError:
    request = httpx2.Request("GET", "https://127.0.0.1/api/v1/pods")
    return httpx2.HTTPStatusError("status", request=request, response=httpx2.Response(code, request=request))


@pytest.mark.parametrize("error, expected", [
    (api_error(410), True), (api_error(429), True), (api_error(500), True), (api_error(503), True),
    (api_error(401), False), (api_error(403), False), (api_error(404), False), (api_error(422), False),
    (http_status_error(403), False), (http_status_error(502), True),
    (httpx2.ConnectError("connection refused"), True), (httpx2.RemoteProtocolError("reset"), True),
    (httpx2.ReadTimeout("slow"), True), (ConnectionResetError(), True),
    (ValueError("a bug"), False), (KeyError("a bug"), False),
])
def test_which_errors_are_retried(error, expected):
    assert retryable(error) is expected


def test_describe_keeps_the_api_servers_message():
    assert describe(api_error(403, 'pods is forbidden: User "x" cannot list')) == \
        '403 Reason: pods is forbidden: User "x" cannot list'


def test_backoff_doubles_up_to_a_limit():
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [0.5, 1, 2, 4, 8, 10, 10]


class FakePod:
    def __init__(self, uid: str, phase: str = "Succeeded"):
        self.metadata = type("Meta", (), {"uid": uid})()
        self._dict = {"metadata": {"uid": uid, "name": uid, "namespace": "ns"}, "spec": {},
                      "status": {"phase": phase}}

    def to_dict(self) -> dict:
        return self._dict


class FakeListing:
    def __init__(self, outcome, version: str):
        self.outcome, self.resourceVersion = outcome, version

    async def __aiter__(self):
        if isinstance(self.outcome, Exception):
            raise self.outcome
        for pod in self.outcome:
            yield pod


class FakeClient:
    """Plays a script of list outcomes and watch streams (events, then the error that ends them)."""

    def __init__(self, lists, watches):
        self.lists, self.watches = list(lists), list(watches)
        self.watched_from: list[str] = []

    def list(self, resource, namespace, fields):
        return FakeListing(self.lists.pop(0), f"v{len(self.watched_from) + 1}")

    async def watch(self, resource, namespace, fields, resource_version, on_error):
        self.watched_from.append(resource_version)
        events, error = self.watches.pop(0)
        for event in events:
            yield event
        raise error


class FakeWorker:
    def __init__(self, uid):
        self.uid, self.stopped, self.released = uid, False, False

    async def stop(self, grace):
        self.stopped = True

    async def release(self):
        self.released = True


def test_transient_errors_list_again_and_a_forbidden_watch_ends_it(monkeypatch):
    monkeypatch.setattr(pods_module, "backoff", lambda attempt: 0)
    client = FakeClient(
        lists=[httpx2.ConnectError("refused"), [FakePod("a")], [FakePod("a")], api_error(403, "pods is forbidden")],
        watches=[([("MODIFIED", FakePod("a"))], api_error(410, "too old")),
                 ([], httpx2.RemoteProtocolError("peer closed connection"))],
    )
    manager = PodManager(client, "node", node=None)
    gone = FakeWorker("gone")
    manager.workers["gone"] = gone  # its pod was deleted while nobody watched
    with pytest.raises(ApiError, match="pods is forbidden"):
        asyncio.run(manager.watch())
    assert client.watched_from == ["v1", "v2"]  # each watch starts at its list's version
    assert gone.stopped and gone.released and "gone" not in manager.workers


class FakeRegistration:
    def __init__(self, heartbeat_error=None):
        self.heartbeat_error = heartbeat_error

    async def heartbeat(self):
        if self.heartbeat_error:
            raise self.heartbeat_error
        await asyncio.Event().wait()


class FakePods:
    def __init__(self, watch_error=None):
        self.watch_error = watch_error

    async def watch(self):
        if self.watch_error:
            raise self.watch_error
        await asyncio.Event().wait()


def supervise(registration, pods, stop_now=False):
    from localnode.agent import NodeAgent

    agent = NodeAgent.__new__(NodeAgent)  # no kubeconfig needed for the supervision alone
    agent.node_name = "node"

    async def run():
        stop = asyncio.Event()
        if stop_now:
            stop.set()
        return await agent._supervise(stop, registration, pods)

    return asyncio.run(run())


def test_supervision_turns_a_dead_task_into_a_failure_with_its_reason():
    failure = supervise(FakeRegistration(), FakePods(api_error(403, "pods is forbidden")))
    assert failure.reason == "PodWatchFailed" and "pods is forbidden" in failure.message
    failure = supervise(FakeRegistration(api_error(401, "Unauthorized")), FakePods())
    assert failure.reason == "HeartbeatFailed" and "Unauthorized" in failure.message


def test_supervision_ends_quietly_on_stop():
    assert supervise(FakeRegistration(), FakePods(), stop_now=True) is None
