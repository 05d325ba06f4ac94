"""Records on the kinds without behaviour yet (Model, Deployment) that the operator has seen the
object (Ready=Unknown, Reconciling), until each gets its real reconcile."""

from datetime import datetime, timezone
from typing import Any

import kopf

from ..api.common import GROUP, VERSION
from ..api.kinds import DEPLOYMENT, MODEL
from ..logic.seen import seen_status_patch


async def record_seen(status: dict[str, Any], meta: dict[str, Any], patch: kopf.Patch, **_: Any) -> None:
    patch.status.update(seen_status_patch(dict(status), meta["generation"], datetime.now(timezone.utc)))


for kind in (MODEL, DEPLOYMENT):
    for on_cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        on_cause(GROUP, VERSION, kind.plural, id="seen")(record_seen)
