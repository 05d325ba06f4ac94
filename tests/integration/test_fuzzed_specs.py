"""Fuzzed specs against the real API server and one operator process (issue 13, item 5).

For each kind, hypothesis draws specs from the CRD schema (tests/fuzzspecs.py): valid ones and
deliberately broken ones. Each is created in the kind's own namespace with strict field validation.

- A refused spec: the API server's answer names the field (spec.<path>).
- Model agreement: a spec the API server accepts must parse through the API model (the operator
  parses every spec it reconciles), and a spec the model refuses must be refused by the server. A
  spec the model accepts (strictly: no coercion of "5" to 5) may be refused by the server only
  for what the model does not judge: CEL rules, unknown fields, duplicate list keys.
- An accepted spec: within a timeout its status has observedGeneration and a Ready condition for
  the current generation, with a reason of the vocabulary (never ReconcileError: that is the
  operator's unexpected exception) and a message; Stalled=True names a field of the spec.
- The operator logs no traceback and no ERROR, and is alive at the end.

    FUZZ_SEED=<n>       replay a run (the seed is printed in the summary; default 13)
    FUZZ_EXAMPLES=<n>   specs per kind (default 40; `make fuzz` runs more)
    FUZZ_VERBOSE=1      print each accepted object's Ready reason and message
"""

import json
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from lightkube.config.client_adapter import ConnectionParams
from lightkube.config.kubeconfig import KubeConfig
from lightkube.core.exceptions import ApiError
from lightkube.core.generic_client import GenericSyncClient
from lightkube.generic_resource import create_namespaced_resource
from pydantic import ValidationError

import mlops_operator
from fuzzspecs import BASE_DATASET, BASE_MODEL, BASE_MODEL_NAME, broken_specs, spec_schema, valid_specs
from mlops_operator.api import vocabulary
from mlops_operator.api.common import API_VERSION, GROUP, VERSION
from mlops_operator.api.kinds import KINDS, Kind
from pipeline import dataset, write_csv
from support import OperatorRunner, wait_for

pytestmark = pytest.mark.cluster

FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "13"))
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
STATUS_TIMEOUT = float(os.environ.get("FUZZ_STATUS_TIMEOUT", "150"))
VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))  # each accepted object's Ready reason and message
BASE_READY_TIMEOUT = 180  # the base Dataset's validation pod, on a loaded machine
REASONS = {term.value for name in dir(vocabulary) if isinstance(cls := getattr(vocabulary, name), type)
           and issubclass(cls, vocabulary.Term) and cls is not vocabulary.Term for term in cls}
CRASH_REASON = vocabulary.CommonReason.RECONCILE_ERROR.value
ERROR_LINE = re.compile(r"\[(ERROR|CRITICAL)\s*\]|\bERROR\b")
SPEC_FIELD = re.compile(r"spec\.([A-Za-z][A-Za-z0-9]*)")


@dataclass
class Tally:
    generated: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: int = 0
    accepted_names: list[str] = field(default_factory=list)
    ready_reasons: Counter = field(default_factory=Counter)  # of the accepted objects, at the end

    def line(self, kind: str) -> str:
        return (f"{kind}: generated {self.generated}, accepted {self.accepted}, refused {self.refused}, "
                f"crashes {self.crashes}")


TALLIES: dict[str, Tally] = {}


@dataclass(frozen=True)
class Fuzzing:
    """What the module shares: one operator for every kind's namespace, and a client for creates."""

    cluster: Any
    prefix: str
    operator: Any
    client: GenericSyncClient
    data_uri: str


@pytest.fixture(scope="module")
def fuzzing(crds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    data_uri = write_csv(folder / "data.csv")
    prefix = f"fz-{uuid.uuid4().hex[:6]}"
    # The operator process runs this checkout's code (PYTHONPATH), whatever the venv's editable
    # install points at: said once, so a run's log shows which code it judged.
    print(f"mlops_operator from {mlops_operator.__file__}")
    client = GenericSyncClient(ConnectionParams(), KubeConfig.from_file(crds.kubeconfig))
    with OperatorRunner(crds, f"{prefix}-*", folder) as runner:
        operator = runner.start()
        yield Fuzzing(crds, prefix, operator, client, data_uri)
        assert operator.process.poll() is None, "the operator exited:\n" + operator.output()[-3000:]


@pytest.fixture
def kind_namespace(fuzzing, request):
    """The test's own namespace, one the module's operator watches (its name has the prefix)."""
    cluster = fuzzing.cluster
    name = f"{fuzzing.prefix}-{request.node.callspec.id.lower()}"
    cluster.kubectl("create", "namespace", name)
    wait_for(lambda: cluster.kubectl("get", "serviceaccount", "default", namespace=name, check=False).returncode == 0,
             30, f"the default ServiceAccount of {name}")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def _resource(kind: Kind):
    return create_namespaced_resource(GROUP, VERSION, kind.kind, kind.plural)


def _cel_messages(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {rule["message"] for rule in node.get("x-kubernetes-validations", [])}
        return found.union(*(_cel_messages(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_cel_messages(v) for v in node))
    return set()


# What the API models do not judge, so the server alone refuses it.
# (The server adds a note when it skipped CEL rules because of another error.)
NOT_JUDGED_BY_THE_MODEL = ("unknown field", "Duplicate value", "some validation rules were not checked")


def _refusal_causes(error: ApiError) -> list[str]:
    details = error.status.details
    causes = [f"{c.field or ''}: {c.message or ''}" for c in (details.causes or [])] if details else []
    return causes or [error.status.message or ""]


def _parses(kind: Kind, spec: dict, strict: bool) -> str | None:
    """None when the API model accepts the spec, else its first complaint."""
    try:
        kind.spec.model_validate(json.loads(json.dumps(spec)), strict=strict)
    except ValidationError as error:
        first = error.errors()[0]
        return f"spec.{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return None


def _apply_base_objects(fuzzing: Fuzzing, namespace: str, kind: Kind) -> None:
    """What generated specs refer to by name: a Dataset on real data; a Model taking champion."""
    cluster = fuzzing.cluster
    base = [dataset(BASE_DATASET, fuzzing.data_uri)]
    if kind.kind in ("Model", "Deployment"):
        base.append({"apiVersion": API_VERSION, "kind": "Model", "metadata": {"name": BASE_MODEL},
                     "spec": {"modelName": BASE_MODEL_NAME, "version": "1", "aliases": ["champion"],
                              "artifact": {"uri": "file:///nowhere/model.joblib"}}})
    for obj in base:
        cluster.kubectl("apply", "-f", "-", namespace=namespace, input=json.dumps(obj))
    if kind.kind != "Dataset":
        # Experiments and Models on it then start trials and evaluations instead of only waiting.
        wait_for(lambda: _ready(cluster, namespace, "dataset", BASE_DATASET), BASE_READY_TIMEOUT,
                 f"Dataset {BASE_DATASET} Ready")


def _ready(cluster, namespace: str, kind: str, name: str) -> bool:
    status = json.loads(cluster.kubectl("get", kind, name, "-o", "json", namespace=namespace).stdout).get("status") or {}
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])


def _create(fuzzing: Fuzzing, kind: Kind, namespace: str, name: str, spec: dict) -> ApiError | None:
    resource = _resource(kind)
    obj = resource.from_dict({"apiVersion": API_VERSION, "kind": kind.kind, "metadata": {"name": name}, "spec": spec})
    try:
        fuzzing.client.request("post", resource, obj=obj, namespace=namespace, params={"fieldValidation": "Strict"})
    except ApiError as error:
        if error.status.code >= 500:
            raise
        return error
    return None


def _judge_one(fuzzing: Fuzzing, kind: Kind, namespace: str, tally: Tally, spec: dict, label: str) -> None:
    tally.generated += 1
    name = f"f{tally.generated:04d}-{uuid.uuid4().hex[:4]}"
    refusal = _create(fuzzing, kind, namespace, name, spec)
    lax, strict = _parses(kind, spec, strict=False), _parses(kind, spec, strict=True)
    shown = f"{label}: {json.dumps(spec)[:600]}"
    if refusal is None:
        tally.accepted += 1
        tally.accepted_names.append(name)
        assert lax is None, f"the API server accepted a spec the API model refuses ({lax}); {shown}"
        return
    tally.refused += 1
    causes = _refusal_causes(refusal)
    assert any(SPEC_FIELD.search(c) for c in causes), f"the refusal names no spec field: {causes}; {shown}"
    assert strict is not None or all(
        any(m in c for m in (*_cel_messages(spec_schema(kind)), *NOT_JUDGED_BY_THE_MODEL)) for c in causes
    ), f"the API model accepts what the server refuses for a reason the model judges: {causes}; {shown}"


def _explains_itself(kind: Kind, obj: dict) -> str | None:
    """None when the status explains the object, else what is missing."""
    status, generation = obj.get("status") or {}, obj["metadata"]["generation"]
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    ready = conditions.get("Ready")
    if "observedGeneration" not in status or not ready or ready.get("observedGeneration") != generation:
        return "no Ready condition for the current generation yet"
    if ready["reason"] not in REASONS:
        return f"Ready's reason {ready['reason']!r} is not a term of api/vocabulary.py"
    if not ready.get("message", "").strip():
        return "Ready has no message"
    stalled = conditions.get("Stalled")
    if stalled and stalled["status"] == "True":
        named = {m.group(1) for m in SPEC_FIELD.finditer(stalled.get("message", ""))}
        if not named & set(spec_schema(kind)["properties"]):
            return f"Stalled names no field of the spec: {stalled.get('message')!r}"
    return None


def _crash_lines(log: str, namespace: str | None = None) -> list[str]:
    """Tracebacks, ERROR lines and ReconcileErrors of the operator's log (of one namespace's objects
    when given: a kind's test is not blamed for another's, whose namespace may still be going away)."""
    assert "Traceback" not in log, log[max(0, log.index("Traceback") - 2000):][:6000]
    return [line for line in log.splitlines() if (ERROR_LINE.search(line) or CRASH_REASON in line)
            and (namespace is None or f"{namespace}/" in line or f"'{namespace}'" in line)]


def _list(fuzzing: Fuzzing, kind: Kind, namespace: str) -> dict[str, dict]:
    items = json.loads(fuzzing.cluster.kubectl("get", kind.crd_name, "-o", "json", namespace=namespace).stdout)["items"]
    return {o["metadata"]["name"]: o for o in items}


@pytest.mark.timeout(max(900, 6 * FUZZ_EXAMPLES))
@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_fuzzed_specs_are_refused_with_a_field_or_explained_in_status(fuzzing, kind_namespace, kind):
    namespace = kind_namespace
    _apply_base_objects(fuzzing, namespace, kind)
    tally = TALLIES.setdefault(kind.kind, Tally())
    specs = st.one_of(valid_specs(kind, fuzzing.data_uri).map(lambda s: (s, "valid")),
                      broken_specs(kind, fuzzing.data_uri))

    # Shrinking re-creates objects under new names; the tally counts every create.
    @seed(FUZZ_SEED)
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(drawn=specs)
    def judge(drawn):
        spec, label = drawn
        _judge_one(fuzzing, kind, namespace, tally, spec, label)

    judge()

    # Every accepted object at once: one LIST a round instead of a GET per object.
    def unexplained() -> dict[str, str]:
        objects = _list(fuzzing, kind, namespace)
        found = {name: _explains_itself(kind, objects[name]) for name in tally.accepted_names}
        return {name: why for name, why in found.items() if why}

    last: dict[str, str] = {}

    def settled() -> bool:
        nonlocal last
        last = unexplained()
        return not any(why.startswith("no Ready condition") for why in last.values())

    try:
        wait_for(settled, STATUS_TIMEOUT, f"a status on every accepted {kind.kind}", interval=2)
    finally:
        print(tally.line(kind.kind), f"seed {FUZZ_SEED}")
    objects = _list(fuzzing, kind, namespace)
    tally.ready_reasons.update(c["reason"] for n in tally.accepted_names
                               for c in (objects[n].get("status") or {}).get("conditions", []) if c["type"] == "Ready")
    print(f"{kind.kind} Ready reasons:", dict(tally.ready_reasons.most_common()))
    if VERBOSE:
        for name in tally.accepted_names:
            ready = next((c for c in (objects[name].get("status") or {}).get("conditions", []) if c["type"] == "Ready"), {})
            print(f"  {name}: {ready.get('reason')}: {ready.get('message')}")
    crashed = [n for n in tally.accepted_names
               if any(c.get("reason") == CRASH_REASON for c in (objects[n].get("status") or {}).get("conditions", []))]
    tally.crashes += len(crashed)
    errors = _crash_lines(fuzzing.operator.output(), namespace)
    tally.crashes += len(errors)
    assert not crashed and not errors, f"{crashed}\n" + "\n".join(errors[:20])
    assert not last, "\n".join(f"{n}: {why}\n  spec: {json.dumps(objects[n]['spec'])[:600]}\n"
                                f"  status: {json.dumps(objects[n].get('status'))[:1200]}" for n, why in last.items())


def test_summary(fuzzing, capsys):
    """The figures of the run, printed through pytest's capture (docs/operations.md, Tests), and
    the operator's whole log, alive at the end."""
    assert fuzzing.operator.process.poll() is None, "the operator exited"
    unattributed = _crash_lines(fuzzing.operator.output())
    assert not unattributed, "\n".join(unattributed[:20])
    with capsys.disabled():
        print()
        for kind, tally in TALLIES.items():
            print("fuzzed specs:", tally.line(kind))
        total = Tally(*(sum(getattr(t, f) for t in TALLIES.values())
                        for f in ("generated", "accepted", "refused", "crashes")))
        print("fuzzed specs:", total.line("all kinds"), f"seed {FUZZ_SEED}, FUZZ_EXAMPLES {FUZZ_EXAMPLES}")
    assert total.crashes == 0
