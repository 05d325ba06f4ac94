"""What a failing reconcile leaves behind: the error in status and one Event, then a retry."""

import asyncio

import httpx2
import pytest
from pydantic import BaseModel, ValidationError

from mlops_operator.controller.queue import TerminalError
from mlops_operator.handlers.reads import InvalidSpec
from mlops_operator.handlers.runner import Controller, Observed, reconcile
from mlops_operator.kube.client import KubeError
from mlops_operator.resources.meta import Meta

from builders import condition

BODY = {"apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset",
        "metadata": {"name": "d", "namespace": "ns", "uid": "u", "generation": 2,
                     "creationTimestamp": "2026-11-26T12:00:00Z"}, "status": {"observedGeneration": 1}}


class RecordingKube:
    """Records the writes a reconcile makes; reads return BODY."""

    def __init__(self):
        self.patches, self.events = [], []

    async def get(self, *_):
        return BODY

    async def patch_status(self, owner, patch):
        self.patches.append(patch)

    async def post_event(self, owner, event):
        self.events.append(event)


def failing(error):
    async def gather(kube, key, now):
        raise error

    return Controller("Dataset", "mlops.dev/v1alpha1", gather, lambda world: None)


@pytest.mark.parametrize("error, reason, stalled", [
    (RuntimeError("a bug"), "ReconcileError", False),
    (KubeError(422, 'Job.batch "x" is invalid: spec.template.spec.affinity'), "ChildRefused", True),
    # Server-side apply's 500 for a body it cannot merge fails the same way every time.
    (KubeError(500, 'failed to create typed patch object (ns/d; apps/v1, Kind=Deployment): errors:\n'
                    '  .spec.template.spec.containers[name="server"].env: duplicate entries for key [name="A"]'),
     "ChildRefused", True),
    (KubeError(500, "Internal error occurred: etcdserver: request timed out"), "ReconcileError", False),
])
def test_an_unexpected_error_reaches_status_and_one_event_then_is_retried(error, reason, stalled):
    kube = RecordingKube()
    with pytest.raises(type(error)):  # raised again: the work queue retries with back-off
        asyncio.run(reconcile(failing(error), kube, ("ns", "d")))
    (patch,) = kube.patches
    ready = condition(patch, "Ready")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("False", reason, 2)
    assert str(error.message if isinstance(error, KubeError) else error) in ready["message"]
    assert bool(condition(patch, "Stalled")) is stalled
    assert [e.reason for e in kube.events] == [reason]


@pytest.mark.parametrize("error", [
    KubeError(429, "storage is (re)initializing"),  # a CRD's storage, just after an API server start
    KubeError(503, "etcd leader changed"),
    KubeError(504, "Timeout: request did not complete within the allowed duration"),
    httpx2.ConnectError("All connection attempts failed"),
    httpx2.RemoteProtocolError("peer closed connection without sending complete message body"),
])
def test_an_api_server_that_cannot_serve_just_now_is_retried_without_a_word_in_status(error):
    """A restart of the API server or etcd says nothing about the object: no Ready=False, no Event."""
    kube = RecordingKube()
    with pytest.raises(type(error)):
        asyncio.run(reconcile(failing(error), kube, ("ns", "d")))
    assert kube.patches == [] and kube.events == []


def test_the_error_report_uses_what_gather_read():
    kube = RecordingKube()

    async def gather(kube_, key, now):
        return Observed(Meta.of(BODY), BODY["status"], "world")

    def plan(world):
        raise ValueError("a plan bug")

    with pytest.raises(ValueError):
        asyncio.run(reconcile(Controller("Dataset", "mlops.dev/v1alpha1", gather, plan), kube, ("ns", "d")))
    assert "ValueError: a plan bug" in condition(kube.patches[0], "Ready")["message"]


def test_a_spec_that_does_not_parse_is_reported_stalled_and_ends_as_a_terminal_error():
    class Splits(BaseModel):
        train: float

    with pytest.raises(ValidationError) as parsed:
        Splits.model_validate({"train": "most"})
    kube = RecordingKube()
    with pytest.raises(TerminalError):  # the queue counts it and does not retry it
        asyncio.run(reconcile(failing(InvalidSpec(parsed.value)), kube, ("ns", "d")))
    (patch,) = kube.patches
    ready = condition(patch, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "spec.train: Input should be a valid number" in ready["message"]
    assert condition(patch, "Stalled")["status"] == "True"


def test_a_refused_child_names_the_spec_fields_it_was_built_from():
    error = KubeError(422, 'Job.batch "x" is invalid: spec.template.spec.containers[0].volumeMounts[0].name: Not found')
    kube = RecordingKube()
    with pytest.raises(KubeError):
        asyncio.run(reconcile(failing(error), kube, ("ns", "d")))
    message = condition(kube.patches[0], "Stalled")["message"]
    assert message.startswith("the API server refused a child built from spec.validation.validator.volumeMounts[0].name: ")


class GoneKube(RecordingKube):
    """The object was deleted while its reconcile ran."""

    async def get(self, *_):
        return None


def test_an_object_deleted_during_its_reconcile_is_no_error():
    kube = GoneKube()
    error = KubeError(404, 'models.mlops.dev "m" not found')
    assert asyncio.run(reconcile(failing(error), kube, ("ns", "m"))) is None
    assert kube.patches == [] and kube.events == []


def test_a_404_of_something_else_is_an_error_of_an_object_still_there():
    kube = RecordingKube()
    with pytest.raises(KubeError):
        asyncio.run(reconcile(failing(KubeError(404, 'the server could not find the requested resource')), kube,
                              ("ns", "d")))
    assert condition(kube.patches[0], "Ready")["reason"] == "ReconcileError"
