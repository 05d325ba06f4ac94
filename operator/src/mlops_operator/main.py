"""kopf settings, and the handlers this operator registers."""

import logging

import kopf

from .api.common import GROUP
from .handlers import dataset, experiment, kube, seen  # noqa: F401  (importing registers the handlers)

FINALIZER = f"{GROUP}/finalizer"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: object) -> None:
    # Own annotation keys, so that other kopf operators on the cluster never share our state.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = FINALIZER
    # kopf posts an Event for every handler log line at INFO; only warnings are worth an Event.
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = kube.FIELD_MANAGER
    settings.peering.standalone = True


@kopf.on.cleanup()
async def close_client(**_: object) -> None:
    await kube.close()
