"""The kopf wiring: server-side selectors for children, no kopf state on the objects."""

import asyncio

import kopf

from mlops_operator.handlers import operator


def started_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()

    async def start_and_stop():
        await operator.start(settings=settings)
        await operator.stop()

    asyncio.run(start_and_stop())
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
