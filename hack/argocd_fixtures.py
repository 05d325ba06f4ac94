#!/usr/bin/env python3
"""Writes the test data of the Argo CD health checks
(manifests/argocd/resource_customizations/mlops.dev/<Kind>/testdata/*.yaml): whole objects whose
status the operator's controllers really wrote. Each file's first comment line says where it came
from.

    # 1. live: record a run of the end-to-end tests on a cluster of your own
    python3 hack/localcluster.py up --state-dir /tmp/c && eval "$(python3 hack/localcluster.py env --state-dir /tmp/c)"
    python3 hack/argocd_watch.py /tmp/capture &          # every state of every object, as JSON lines
    USE_EXISTING_CLUSTER=true python -m pytest tests/e2e/test_serving.py tests/e2e/test_models.py ...
    kill %1
    # 2. pick the fixtures from the recording, and make the few the tests do not reach from the
    #    controllers' own pure plans (the unit tests' builders); needs the project's environment
    PYTHONPATH=operator/src python hack/argocd_fixtures.py /tmp/capture

A wanted state missing from the recording is an error that names it. Run from the repository's
root with the project's virtualenv (pyyaml, and the operator on PYTHONPATH for the plan-made ones).
"""

import copy
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "manifests" / "argocd" / "resource_customizations" / "mlops.dev"
Obj = dict[str, Any]


# --- reading a recording -------------------------------------------------------------------------

def condition(obj: Obj, kind: str) -> Obj:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def phase(obj: Obj) -> str | None:
    return (obj.get("status") or {}).get("phase")


def observed(obj: Obj) -> bool:
    return (obj.get("status") or {}).get("observedGeneration") == obj["metadata"].get("generation")


def gated(obj: Obj) -> bool:
    """A Model that went through its gate (an evaluation), not one without a validation policy."""
    return condition(obj, "Evaluated").get("reason") == "EvaluationSucceeded"


def test_of(namespace: str) -> str:
    """The e2e test a namespace belongs to (tests/conftest.py names it t-<test name[:40]>-<6 hex>)."""
    stem = namespace[2:-7]
    for path in sorted((REPO / "tests" / "e2e").glob("test_*.py")):
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M):
            if name[:40].lower().replace("_", "-").strip("-") == stem:
                return f"tests/e2e/{path.name}::{name}"
    return f"namespace {namespace}"


def recording(folder: Path, kind: str) -> list[Obj]:
    path = folder / f"{kind}.jsonl"
    return [json.loads(line) for line in path.open()] if path.exists() else []


Pick = Callable[[Obj], bool]
# (file, which one: "first" or "last" of those matching, the state wanted)
LIVE: dict[str, list[tuple[str, str, Pick]]] = {
    "Dataset": [
        ("progressing_new.yaml", "first", lambda o: not condition(o, "Ready")),
        ("progressing_validating.yaml", "last", lambda o: phase(o) == "Validating"),
        ("healthy_ready.yaml", "last", lambda o: phase(o) == "Ready" and observed(o)),
        ("degraded_invalid.yaml", "last", lambda o: phase(o) == "Invalid" and observed(o)),
    ],
    "Experiment": [
        ("progressing_new.yaml", "first", lambda o: not condition(o, "Ready")),
        ("progressing_waiting.yaml", "last",
         lambda o: phase(o) == "Waiting" and condition(o, "Ready").get("reason") == "WaitingForDataset"),
        ("progressing_running.yaml", "last",
         lambda o: phase(o) == "Running" and (o["status"].get("trials") or {}).get("succeeded", 0) > 0),
        ("healthy_succeeded.yaml", "last", lambda o: phase(o) == "Succeeded" and observed(o)),
        ("degraded_childRefused.yaml", "last", lambda o: condition(o, "Ready").get("reason") == "ChildRefused"),
    ],
    "Model": [
        ("progressing_new.yaml", "first", lambda o: not condition(o, "Ready")),
        ("progressing_evaluating.yaml", "last", lambda o: phase(o) == "Evaluating"),
        ("healthy_promoted.yaml", "last", lambda o: phase(o) == "Promoted" and observed(o) and gated(o)),
        ("healthy_passed.yaml", "last", lambda o: phase(o) == "Passed" and observed(o) and gated(o)),
        ("degraded_rejected.yaml", "last", lambda o: phase(o) == "Rejected" and observed(o)),
    ],
    "Deployment": [
        ("progressing_new.yaml", "first", lambda o: not condition(o, "Ready")),
        ("progressing_waiting.yaml", "last", lambda o: phase(o) == "Waiting" and observed(o)),
        ("progressing_starting.yaml", "last", lambda o: phase(o) == "Starting" and observed(o)),
        ("healthy_serving.yaml", "last",
         lambda o: phase(o) == "Serving" and observed(o) and not o["spec"].get("paused")),
        ("progressing_rollingOut.yaml", "last", lambda o: phase(o) == "RollingOut" and observed(o)),
        ("suspended_paused.yaml", "last",
         lambda o: phase(o) == "Paused" and observed(o) and condition(o, "Progressing").get("reason") == "Paused"),
        ("suspended_waitingForPromote.yaml", "last",
         lambda o: phase(o) == "Paused" and observed(o)
         and condition(o, "Progressing").get("reason") == "WaitingForPromote"),
        ("degraded_rolledBack.yaml", "last", lambda o: phase(o) == "Degraded" and observed(o)),
        ("progressing_edited.yaml", "first",
         lambda o: (o.get("status") or {}).get("observedGeneration", 0) >= 1 and not observed(o)),
    ],
}


def cleaned(obj: Obj) -> Obj:
    """The object as `kubectl get -o yaml` shows it, less the server's bookkeeping."""
    obj = copy.deepcopy(obj)
    meta = obj["metadata"]
    for key in ("managedFields", "resourceVersion", "uid", "selfLink"):
        meta.pop(key, None)
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": meta, "spec": obj.get("spec"),
            "status": obj.get("status")}


def live(folder: Path) -> dict[tuple[str, str], tuple[str, Obj]]:
    found, missing = {}, []
    for kind, wanted in LIVE.items():
        objects = recording(folder, kind)
        for file, which, pick in wanted:
            matching = [o for o in objects if pick(o)]
            if not matching:
                missing.append(f"{kind}/{file}")
                continue
            obj = matching[0] if which == "first" else matching[-1]
            source = (f"live: {test_of(obj['metadata']['namespace'])}, recorded by hack/argocd_watch.py "
                      f"(the {which} {kind} in this state)")
            found[kind, file] = source, cleaned(obj)
    if missing:
        raise SystemExit(f"not in the recording {folder}: {', '.join(missing)}")
    return found


def edited(source: str, obj: Obj, path: tuple[str, ...], value: Any) -> tuple[str, Obj]:
    """The object right after a user's edit, before the operator has looked: the API server has
    changed spec and counted a new generation; status is still the operator's last word."""
    obj = copy.deepcopy(obj)
    target = obj["spec"]
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    obj["metadata"]["generation"] += 1
    where = source.split(",")[0].removeprefix("live: ")
    return (f"live status of {where} (recorded by hack/argocd_watch.py), then an edit of spec.{'.'.join(path)} "
            f"as the API server applies it (generation +1), before the operator's next write", obj)


# --- made from the controllers' pure plans -------------------------------------------------------

def planned() -> dict[tuple[str, str], tuple[str, Obj]]:
    sys.path[:0] = [str(REPO / "operator" / "src"), str(REPO / "tests" / "unit")]
    from mlops_operator import labels
    from mlops_operator.api.dataset import DatasetSpec
    from mlops_operator.logic.dataset.plan import DatasetWorld
    from mlops_operator.logic.dataset.plan import plan as dataset_plan
    from mlops_operator.logic.patch import applied

    from builders import NAMESPACE, facts, job, meta, pod
    from builders import NOW as now
    from experiments import Sweep
    from experiments import spec as experiment_spec

    made = {}
    # A Dataset whose validator cannot read the data: phase Error, Stalled.
    data = {"source": {"uri": "file:///data/missing.csv"}, "format": "csv"}
    validation = job("data-validate-g1-0", "uid-data", state="failed",
                     labels_={labels.GENERATION: "1", labels.ROUND: "0"})
    pods = {"uid-data-validate-g1-0": [pod("uid-data-validate-g1-0", phase="Failed", terminated={
        "exitCode": 1, "message": json.dumps({"error": "cannot read file:///data/missing.csv: no such file"})})]}
    status: Obj = {"observedGeneration": 0}
    for _ in range(2):
        status = applied(status, dataset_plan(DatasetWorld(meta("Dataset", "data", "uid-data", 1),
                                                           DatasetSpec.model_validate(data), status,
                                                           facts(validation), now, pods)).status)
    made["Dataset", "degraded_error.yaml"] = (
        "plan: logic/dataset/plan.plan on tests/unit/builders.py's Job and pod (the validator exited 1 "
        "with an error document), status patch applied by logic/patch.applied",
        {"apiVersion": "mlops.dev/v1alpha1", "kind": "Dataset",
         "metadata": {"name": "data", "namespace": NAMESPACE, "generation": 1}, "spec": data, "status": status})

    # An Experiment whose every trial failed: phase Failed, Stalled.
    sweep = Sweep(spec=experiment_spec(max_trials=2, parallelism=2))
    sweep.step()
    for name in sorted(sweep.jobs):
        sweep.finish(name, failed="BackoffLimitExceeded")
    sweep.settle(2)
    made["Experiment", "degraded_failed.yaml"] = (
        "plan: tests/unit/experiments.py's Sweep (logic/experiment/plan.plan, each status patch applied "
        "by logic/patch.applied), both trials' Jobs failed with BackoffLimitExceeded",
        {"apiVersion": "mlops.dev/v1alpha1", "kind": "Experiment",
         "metadata": {"name": "exp", "namespace": NAMESPACE, "generation": sweep.generation},
         "spec": sweep.spec, "status": sweep.status})
    return made


# --- writing -------------------------------------------------------------------------------------

def write(fixtures: dict[tuple[str, str], tuple[str, Obj]]) -> None:
    for kind in LIVE:
        folder = OUT / kind / "testdata"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
    for (kind, file), (source, obj) in sorted(fixtures.items()):
        obj = json.loads(json.dumps(obj))  # as the API server stores it (plain strings, not enums)
        text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)
        (OUT / kind / "testdata" / file).write_text(f"# From {source}.\n{text}")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    fixtures = live(Path(argv[1]))
    for kind, base, path, value in [("Dataset", "healthy_ready.yaml", ("validation", "minRows"), 100),
                                    ("Experiment", "healthy_succeeded.yaml", ("search", "maxTrials"), 2),
                                    ("Model", "healthy_promoted.yaml", ("aliases",), ["champion", "challenger"])]:
        fixtures[kind, "progressing_edited.yaml"] = edited(*fixtures[kind, base], path, value)
    fixtures.update(planned())
    write(fixtures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
