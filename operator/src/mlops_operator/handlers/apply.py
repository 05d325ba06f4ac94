"""Applying a plan: writes only, in one order: children deleted, children created (each create's
Event posted only if it made the child), children applied, status patched once, then the plan's Events."""

import logging

from ..kube.client import Created, Kube, KubeError
from ..logic.plan import Event, Plan
from ..resources.meta import Meta

log = logging.getLogger(__name__)


async def post(kube: Kube, owner: Meta, event: Event) -> None:
    """Events inform; one that cannot be posted is logged, never a reason to redo the reconcile."""
    try:
        await kube.post_event(owner, event)
    except (KubeError, OSError) as error:
        log.warning("%s %s/%s: could not post Event %s: %s", owner.kind, owner.namespace, owner.name, event.reason,
                    error)


async def apply(kube: Kube, owner: Meta, plan: Plan) -> None:
    for child in plan.delete:
        await kube.delete_child(child.api_version, child.kind, owner.namespace, child.name)
    for creation in plan.create:
        if await kube.create_child(creation.manifest) is Created.CREATED and creation.event:
            await post(kube, owner, creation.event)
    for manifest in plan.apply:
        await kube.apply_child(manifest)
    if plan.status:
        await kube.patch_status(owner, plan.status)
    for event in plan.events:
        await post(kube, owner, event)
