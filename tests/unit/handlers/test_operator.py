"""The kopf wiring: server-side selectors for children, no kopf state on the objects."""

import asyncio
import itertools
from collections.abc import Sized

import kopf

from mlops_operator.handlers import operator


def started_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()

    async def start_and_stop():
        await operator.start(settings=settings)
        await operator.stop()

    liveness_url, operator.SETTINGS.liveness_url = operator.SETTINGS.liveness_url, ""  # 8080 may be taken here
    try:
        asyncio.run(start_and_stop())
    finally:
        operator.SETTINGS.liveness_url = liveness_url
    return settings


def test_jobs_and_pods_are_watched_with_a_server_side_label_selector():
    settings = started_settings()
    jobs = kopf.Resource("batch", "v1", "jobs", namespaced=True)
    pods = kopf.Resource("", "v1", "pods", namespaced=True)
    datasets = kopf.Resource("mlops.dev", "v1alpha1", "datasets", namespaced=True)
    assert settings.watching.label_selectors.collect(jobs) == ["app.kubernetes.io/managed-by=mlops-operator"]
    assert settings.watching.label_selectors.collect(pods) == ["app.kubernetes.io/managed-by=mlops-operator"]
    assert settings.watching.label_selectors.collect(datasets) == []


def test_kopf_posts_no_events_of_its_own_and_keeps_its_finalizer_name_to_remove_it():
    settings = started_settings()
    assert settings.posting.enabled is False
    assert settings.persistence.finalizer == "mlops.dev/finalizer"


def test_kopf_retries_requests_without_end_so_a_long_api_outage_ends_no_watch():
    backoffs = started_settings().networking.error_backoffs
    assert not isinstance(backoffs, Sized)  # kopf counts attempts without a total
    first = list(itertools.islice(backoffs, 1000))
    assert first[:6] == [1, 1, 2, 3, 5, 10] and set(first[6:]) == {10}
    assert list(itertools.islice(backoffs, 3)) == [1, 1, 2]  # each request starts again from the first delay
