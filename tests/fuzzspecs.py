"""Hypothesis strategies for the four kinds' specs, derived from the CRD schemas that crdgen makes
from the API models (so a field added to a model is fuzzed without a change here).

- `valid_specs(kind)`: specs within every bound, enum, length and pattern of the schema, with names
  and values realistic enough for the operator to act on them (images that do not exist, data at
  places that do not exist, the module's base Dataset and Model by name). Rules between fields (CEL:
  exactly one of, sums, orderings) are satisfied by a fix-up most of the time and left to chance
  otherwise, so some "valid" specs break a CEL rule and the API server refuses them: that is fuzzing
  the rules too.
- `broken_specs(kind)`: a valid spec with one deliberate mutation (a wrong type, a number out of
  range, an unknown enum value, a required field removed, a string or list over its limit, odd
  unicode, an unknown field, or a CEL rule broken on purpose), labelled with what was done.

The walker knows the structural-schema subset crdgen emits: object (properties, required,
additionalProperties), array (items, list types), string (enum, pattern, lengths, CEL matches()),
integer and number (bounds), boolean, int-or-string, preserve-unknown-fields.
"""

import re
import string
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from mlops_operator.api.crdgen import openapi_schema
from mlops_operator.api.kinds import Kind

Path = tuple[str, ...]  # property names; "[]" for an array's items, "{}" for a map's values
INT64_MAX = 2**63 - 1
CEL_MATCHES = re.compile(r"^self\.matches\('(.+)'\)$")

BASE_DATASET = "fuzz-data"  # created Ready by the test module before the fuzzing
BASE_MODEL = "fuzz-model"  # a version of BASE_MODEL_NAME without a gate: it takes champion
BASE_MODEL_NAME = "fuzz"


def _dns_label(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.from_regex(rf"[a-z][a-z0-9-]{{0,{max_size - 2}}}[a-z0-9]", fullmatch=True)


IMAGES = st.sampled_from([
    "registry.invalid/fuzz/trainer:1.0",  # no such registry: the pod cannot start
    "ghcr.io/example/validator:2",
    "example.com/ml/evaluator@sha256:" + "ab" * 32,
])
DURATIONS = st.sampled_from(["1m", "90s", "5m", "30m", "1h", "1h30m", "2.5h", "45s", "500ms"])
METRICS = st.sampled_from(["roc_auc", "accuracy", "score", "rmse", "f1"])
COLUMNS = st.sampled_from(["mean_radius", "mean_texture", "target", "age", "label"])
ALIASES = st.one_of(st.sampled_from(["champion", "challenger", "shadow"]), st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]",
                                                                                         fullmatch=True))
def _mostly(value: str, other: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """value three times in four (so the object has something to work on), else a name from other."""
    return st.integers(0, 3).flatmap(lambda i: other if i == 3 else st.just(value))


NAME_OR_BASE = {BASE_DATASET: _mostly(BASE_DATASET, _dns_label()),
                BASE_MODEL: _mostly(BASE_MODEL, _dns_label()),
                BASE_MODEL_NAME: _mostly(BASE_MODEL_NAME, st.one_of(st.just("churn"), _dns_label()))}
FREE_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_./ ", min_size=1, max_size=16)


def _data_uris(data_uri: str) -> st.SearchStrategy[str]:
    return st.sampled_from([
        data_uri,  # the module's CSV: validation passes or fails on the rules drawn
        "file:///tmp/fuzz-nowhere/data.csv",
        "s3://fuzz-bucket/churn/2026-11/",
        "https://data.invalid/churn.parquet",
        "gs://fuzz/churn.jsonl",
        "lakefs://repo/main/churn.csv",
    ])


def _parameters() -> st.SearchStrategy[dict[str, Any]]:
    """One hyperparameter in one of its three shapes (its CEL rules: exactly one shape, min < max, log
    needs min > 0, an int range needs an integer in it)."""
    small = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    ranges = st.tuples(st.floats(0.001, 50), st.floats(0.5, 100), st.sampled_from([None, "linear", "log"]),
                       st.sampled_from([None, "float", "int"])).map(
        lambda t: {"min": t[0], "max": t[0] + t[1],
                   **({"scale": t[2]} if t[2] else {}), **({"type": t[3]} if t[3] else {})})
    return st.one_of(
        st.lists(small, min_size=1, max_size=4).map(lambda v: {"values": v}),
        st.lists(st.sampled_from(["gini", "entropy", "adam", "sgd"]), min_size=1, max_size=3).map(
            lambda v: {"choices": v}),
        ranges,
    )


def _string_hints(data_uri: str) -> dict[Path, st.SearchStrategy]:
    """Realistic values by path suffix (the longest matching suffix wins)."""
    return {
        ("image",): IMAGES,
        ("name",): _dns_label(),  # Secrets, ConfigMaps, volumes, rules, ...: names as people write them
        ("serviceAccountName",): st.sampled_from(["default", "trainer"]),  # trainer does not exist
        ("priorityClassName",): st.sampled_from(["system-cluster-critical", "batch-low"]),
        ("source", "uri"): _data_uris(data_uri),
        ("artifact", "uri"): st.sampled_from(["file:///nowhere/model.joblib", "s3://models/churn/7/model.joblib",
                                              "gs://models/churn.onnx"]),
        ("datasetRef", "name"): NAME_OR_BASE[BASE_DATASET],
        ("dataset", "name"): NAME_OR_BASE[BASE_DATASET],
        ("modelRef", "name"): NAME_OR_BASE[BASE_MODEL],
        ("promote", "model"): NAME_OR_BASE[BASE_MODEL],
        ("abort",): NAME_OR_BASE[BASE_MODEL],
        ("modelName",): NAME_OR_BASE[BASE_MODEL_NAME],
        ("version",): st.sampled_from(["1", "7", "2026-11", "v2"]),
        ("alias",): ALIASES,
        ("aliases", "[]"): ALIASES,
        ("metric",): METRICS,
        ("thresholds", "[]", "metric"): METRICS,
        ("columns", "[]", "name"): COLUMNS,
        ("column",): COLUMNS,
        ("target",): COLUMNS,
        ("interval",): DURATIONS,
        ("pause",): DURATIONS,
        ("address",): st.just("http://prometheus.invalid:9090"),
        ("query",): st.just('sum(rate(mlops_inference_errors_total[1m]))'),
        ("mountPath",): st.sampled_from(["/data", "/mnt/cache", "/tmp/work"]),
        ("command", "[]"): st.sampled_from(["python", "-c", "train.py", "/bin/sh"]),
        ("args", "[]"): st.sampled_from(["--lr=${params.learning_rate}", "--depth", "${params.max_depth}", "-v"]),
        ("env", "[]", "name"): st.sampled_from(["AWS_REGION", "LOG_LEVEL", "PYTHONUNBUFFERED", "MY VAR"]),
        ("reason",): st.sampled_from(["INC-123: the champion's data drifted", "approved by the model owner"]),
        ("artifactRoot",): st.sampled_from(["file:///tmp/fuzz-artifacts", "s3://models/fuzz"]),
    }


def _other_hints() -> dict[Path, st.SearchStrategy]:
    """Whole values (not strings) by path suffix: small counts keep the sweeps and servers cheap."""
    return {
        ("replicas",): st.integers(0, 2),
        ("minReplicas",): st.integers(1, 2),
        ("maxReplicas",): st.integers(1, 3),
        ("maxTrials",): st.integers(1, 5),
        ("parallelism",): st.integers(1, 2),
        ("parameters", "{}"): _parameters(),
        ("volumes", "[]"): _dns_label(10).map(lambda name: {"name": name, "emptyDir": {}}),
        ("securityContext",): st.sampled_from([{}, {"runAsNonRoot": True}, {"readOnlyRootFilesystem": True}]),
        ("affinity",): st.just({}),
    }


# Map keys by the map's path suffix.
KEY_HINTS: dict[Path, st.SearchStrategy[str]] = {
    ("parameters",): st.sampled_from(["learning_rate", "max_depth", "n_estimators", "x", "lr", "LR", "dropout.rate"]),
    ("limits",): st.sampled_from(["cpu", "memory", "nvidia.com/gpu"]),
    ("requests",): st.sampled_from(["cpu", "memory"]),
    ("metrics",): METRICS,
}
QUANTITIES = st.one_of(st.integers(0, 4), st.sampled_from(["500m", "1", "2Gi", "256Mi"]))
FREE_FORM = st.one_of(st.integers(-10, 1000), st.floats(-10, 10, allow_nan=False), st.booleans(), FREE_TEXT)


def _drop(obj: dict, *keys: str) -> dict:
    return {k: v for k, v in obj.items() if k not in keys}


def _fix_search(search: dict) -> dict:
    search = dict(search)
    if search.get("parallelism", 1) > search.get("maxTrials", 10):
        search["parallelism"] = search.get("maxTrials", 10)
    if any("min" in p for p in search.get("parameters", {}).values()):
        search["algorithm"] = "random"
    return search


def _fix_splits(splits: dict) -> dict:
    fractions = [k for k in ("train", "test", "validation") if k in splits]
    if sum(splits[k] for k in fractions) >= 1:
        return {**_drop(splits, *fractions), "train": 0.7, "test": 0.2}
    return splits


def _fix_bounds(obj: dict, *at_least_one: str) -> dict:
    if at_least_one and not any(k in obj for k in at_least_one):
        obj = {**obj, at_least_one[0]: 0.5}
    if "min" in obj and "max" in obj and obj["min"] > obj["max"]:
        obj = {**obj, "min": obj["max"], "max": obj["min"]}
    return obj


def _one_of(*keys: str) -> Callable[[dict], dict]:
    """Keep exactly one of keys (the first present), or leave the object as drawn when none is."""
    def fix(obj: dict) -> dict:
        present = [k for k in keys if k in obj]
        return _drop(obj, *present[1:]) if present else obj
    return fix


def _fix_env(var: dict) -> dict:
    return _drop(var, "value") if "valueFrom" in var else var


def _fix_model_ref(ref: dict) -> dict:
    if "name" in ref:
        return {"name": ref["name"]}
    return {"modelName": ref.get("modelName", BASE_MODEL_NAME), **({"alias": ref["alias"]} if "alias" in ref else {})}


def _fix_schema(schema: dict) -> dict:
    names = [c["name"] for c in schema.get("columns", [])]
    return {**schema, "target": names[0]} if "target" in schema and schema["target"] not in names else schema


def _fix_canary(canary: dict) -> dict:
    weights = sorted({s["weight"] for s in canary["steps"]})
    pauses = [s.get("pause") for s in canary["steps"]]
    steps = [{"weight": w, **({"pause": p} if p else {})} for w, p in zip(weights, pauses, strict=False)]
    return {**canary, "steps": steps}


def _fix_autoscaling(autoscaling: dict) -> dict:
    low, high = sorted([autoscaling.get("minReplicas", 1), autoscaling["maxReplicas"]])
    return {**autoscaling, "minReplicas": low, "maxReplicas": high}


def _fix_model_spec(spec: dict) -> dict:
    has_compare = "compareTo" in (spec.get("validation") or {})
    return spec if has_compare or "override" not in spec else _drop(spec, "override")


# Fix-ups of the CEL rules between fields, by path suffix; applied to nine drawn objects in ten.
FIXUPS: dict[Path, Callable[[dict], dict]] = {
    ("search",): _fix_search,
    ("splits",): _fix_splits,
    ("rules", "[]"): lambda r: _fix_bounds(r, "min", "max", "allowedValues", "maxNullFraction"),
    ("thresholds", "[]"): lambda t: _fix_bounds(t, "min", "max"),
    ("env", "[]"): _fix_env,
    ("valueFrom",): _one_of("secretKeyRef", "configMapKeyRef"),
    ("envFrom", "[]"): _one_of("secretRef", "configMapRef"),
    ("modelRef",): _fix_model_ref,
    ("schema",): _fix_schema,
    ("canary",): _fix_canary,
    ("autoscaling",): _fix_autoscaling,
    (): _fix_model_spec,
}


def _by_suffix(table: dict[Path, Any], path: Path) -> Any:
    """The entry of the longest suffix of path; the empty suffix only matches the spec itself."""
    for start in range(len(path)) if path else [0]:
        if path[start:] in table:
            return table[path[start:]]
    return None


class Walker:
    """Strategies for the nodes of one kind's spec schema."""

    def __init__(self, data_uri: str):
        self.strings = _string_hints(data_uri)
        self.others = _other_hints()

    def node(self, schema: dict[str, Any], path: Path) -> st.SearchStrategy:
        hint = _by_suffix(self.others, path)
        if hint is not None:
            return hint
        if schema.get("x-kubernetes-int-or-string"):
            return QUANTITIES
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, path)
        if kind == "array":
            return self._array(schema, path)
        if kind == "string":
            return self._string(schema, path)
        if kind == "integer":
            return self._integer(schema)
        if kind == "number":
            return self._number(schema)
        if kind == "boolean":
            return st.booleans()
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return FREE_FORM
        raise ValueError(f"no strategy for {'.'.join(path)}: {schema}")

    def _object(self, schema: dict[str, Any], path: Path) -> st.SearchStrategy:
        properties = schema.get("properties") or {}
        if "additionalProperties" in schema and not properties:
            keys = _by_suffix(KEY_HINTS, path)
            if keys is None:
                keys = st.from_regex(r"[a-z][a-z0-9.-]{0,8}[a-z0-9]", fullmatch=True)
            values = self.node(schema["additionalProperties"], (*path, "{}"))
            strategy = st.dictionaries(keys, values, min_size=schema.get("minProperties", 0),
                                       max_size=min(schema.get("maxProperties", 3), 3))
        elif not properties:  # a free object (affinity, securityContext): passed through as written
            strategy = st.just({})
        else:
            required = set(schema.get("required") or [])
            strategy = st.fixed_dictionaries(
                {k: self.node(v, (*path, k)) for k, v in properties.items() if k in required},
                optional={k: self.node(v, (*path, k)) for k, v in properties.items() if k not in required},
            )
        fix = _by_suffix(FIXUPS, path)
        if fix is None:
            return strategy
        return st.tuples(strategy, st.integers(0, 9)).map(lambda drawn: fix(drawn[0]) if drawn[1] else drawn[0])

    def _array(self, schema: dict[str, Any], path: Path) -> st.SearchStrategy:
        items = self.node(schema["items"], (*path, "[]"))
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", 3), max(low, 3))
        list_type = schema.get("x-kubernetes-list-type")
        if list_type == "map":
            keys = schema["x-kubernetes-list-map-keys"]
            return st.lists(items, min_size=low, max_size=high, unique_by=lambda item: tuple(item.get(k) for k in keys))
        return st.lists(items, min_size=low, max_size=high, unique=list_type == "set")

    def _string(self, schema: dict[str, Any], path: Path) -> st.SearchStrategy:
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
        strategy = _by_suffix(self.strings, path)
        if strategy is None:
            regex = schema.get("pattern") or next(
                (m.group(1) for r in schema.get("x-kubernetes-validations", [])
                 if (m := CEL_MATCHES.match(r["rule"]))), None)
            if regex:
                strategy = st.from_regex(regex, fullmatch=True)
            else:
                strategy = st.text(alphabet=string.ascii_letters + string.digits + "-_./ ", min_size=max(low, 1),
                                   max_size=max(low, min(high, 16)))
        return strategy.filter(lambda s: low <= len(s) <= high)

    @staticmethod
    def _integer(schema: dict[str, Any]) -> st.SearchStrategy:
        low = schema.get("minimum", -1000)
        high = schema.get("maximum", max(low, 0) + 100_000)
        return st.integers(int(low) + bool(schema.get("exclusiveMinimum")), int(high) - bool(schema.get("exclusiveMaximum")))

    @staticmethod
    def _number(schema: dict[str, Any]) -> st.SearchStrategy:
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6),
                         exclude_min=bool(schema.get("exclusiveMinimum")) and "minimum" in schema,
                         exclude_max=bool(schema.get("exclusiveMaximum")) and "maximum" in schema,
                         allow_nan=False, allow_infinity=False)


def spec_schema(kind: Kind) -> dict[str, Any]:
    return openapi_schema(kind.spec)


def valid_specs(kind: Kind, data_uri: str) -> st.SearchStrategy[dict[str, Any]]:
    return Walker(data_uri).node(spec_schema(kind), ())


# --- deliberately broken specs -------------------------------------------------------------------

ODD_UNICODE = ["Zürich", "数据集", "\u202eevil", "rocket 🚀", "a\x00b", "two\nlines", " padded ", "", "\ufeffbom",
               "Ω" * 70]
WRONG_TYPES = {"string": [12345, True, {"a": 1}], "integer": ["seven", 1.5, [1]], "number": ["0.5", True, {}],
               "boolean": ["yes", 1], "object": ["text", [1, 2], 3], "array": [{"a": 1}, "x", 0]}


def _sites(value: Any, schema: dict[str, Any], at: tuple) -> list[tuple[tuple, dict[str, Any]]]:
    """Every (location in the spec, its schema) of a drawn spec, for the mutations to choose from."""
    found = [(at, schema)]
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, sub in value.items():
            if key in properties:
                found += _sites(sub, properties[key], (*at, key))
            elif isinstance(schema.get("additionalProperties"), dict):
                found += _sites(sub, schema["additionalProperties"], (*at, key))
    elif isinstance(value, list) and "items" in schema:
        for index, sub in enumerate(value):
            found += _sites(sub, schema["items"], (*at, index))
    return found


def _get(spec: Any, at: tuple) -> Any:
    for step in at:
        spec = spec[step]
    return spec


def _set(spec: Any, at: tuple, value: Any) -> Any:
    """A copy of spec with the value at `at` replaced (at == (): the whole spec)."""
    if not at:
        return value
    head, *rest = at
    copy = list(spec) if isinstance(spec, list) else dict(spec)
    copy[head] = _set(spec[head], tuple(rest), value)
    return copy


def _without(spec: Any, at: tuple, key: str) -> Any:
    return _set(spec, at, _drop(_get(spec, at), key))


def _mutations(spec: dict, sites: list) -> list[tuple[str, tuple, Callable[[Any], Any]]]:
    """(label, location, how the value there changes) for every mutation the drawn spec allows."""
    options: list[tuple[str, tuple, Callable[[Any], Any]]] = []
    for at, schema in sites:
        value = _get(spec, at)
        kind = schema.get("type")
        typed = kind and not schema.get("x-kubernetes-int-or-string") and not (
            schema.get("x-kubernetes-preserve-unknown-fields") and kind != "object")
        if typed and at:
            for wrong in WRONG_TYPES[kind]:
                options.append((f"wrong type ({type(wrong).__name__} for {kind})", at, lambda _v, w=wrong: w))
        if kind in ("integer", "number"):
            if "minimum" in schema:
                options.append(("below minimum", at, lambda _v, s=schema: s["minimum"] - (1 if kind == "integer" else 0.5)))
            if "maximum" in schema:
                options.append(("above maximum", at, lambda _v, s=schema: s["maximum"] + (1 if kind == "integer" else 0.5)))
            if kind == "integer" and "maximum" not in schema:
                options.append(("beyond int64", at, lambda _v: INT64_MAX + 1))
        if "enum" in schema:
            options.append(("unknown enum value", at, lambda _v: "Bogus"))
        if kind == "string" and "enum" not in schema:
            for odd in ODD_UNICODE:
                options.append((f"odd unicode {odd[:6]!r}", at, lambda _v, o=odd: o))
            if "maxLength" in schema:
                options.append(("string over maxLength", at, lambda _v, s=schema: "a" * (s["maxLength"] + 1)))
        if kind == "array" and "maxItems" in schema and value and schema["maxItems"] <= 128:
            options.append(("list over maxItems", at, lambda v, s=schema: (v * (s["maxItems"] + 1))[:s["maxItems"] + 1]))
        if kind == "object" and isinstance(value, dict):
            for key in schema.get("required") or []:
                if key in value:
                    options.append((f"missing required {key}", at, lambda v, k=key: _drop(v, k)))
            if schema.get("properties") and not schema.get("x-kubernetes-preserve-unknown-fields"):
                options.append(("unknown field", at, lambda v: {**v, "fuzzUnknown": 1}))
    return options


def _cel_breakers(kind: str) -> list[tuple[str, Callable[[dict], dict]]]:
    """Rules between fields broken on purpose: what only the CRD's CEL rules catch."""
    return {
        "Dataset": [
            ("splits over 1", lambda s: {**s, "splits": {"train": 0.8, "test": 0.5}}),
            ("target not a column", lambda s: {**s, "schema": {"columns": [{"name": "a", "type": "float"}], "target": "b"}}),
            ("refresh under 1m", lambda s: {**s, "refresh": {"interval": "30s"}}),
            ("rule min over max", lambda s: {**s, "validation": {"rules": [{"name": "r", "column": "a", "min": 2, "max": 1}]}}),
            ("uri scheme", lambda s: {**s, "source": {"uri": "ftp://example.com/x.csv"}}),
        ],
        "Experiment": [
            ("parallelism over maxTrials", lambda s: {**s, "search": {**s["search"], "maxTrials": 2, "parallelism": 3}}),
            ("grid over a range", lambda s: {**s, "search": {**s["search"], "algorithm": "grid",
                                                             "parameters": {"lr": {"min": 0.1, "max": 1.0}}}}),
            ("colliding parameter names", lambda s: {**s, "search": {**s["search"], "algorithm": "grid",
                                                                     "parameters": {"lr": {"values": [1]}, "LR": {"values": [2]}}}}),
            ("log scale from 0", lambda s: {**s, "search": {**s["search"], "algorithm": "random",
                                                            "parameters": {"lr": {"min": 0, "max": 1, "scale": "log"}}}}),
        ],
        "Model": [
            ("override without compareTo", lambda s: {**_drop(s, "validation"), "override": {"reason": "because"}}),
            ("empty artifact uri", lambda s: {**s, "artifact": {"uri": ""}}),
            ("threshold without bounds", lambda s: {**s, "validation": {"dataset": {"name": BASE_DATASET},
                                                                        "thresholds": [{"metric": "roc_auc"}]}}),
        ],
        "Deployment": [
            ("modelRef both", lambda s: {**s, "modelRef": {"name": BASE_MODEL, "modelName": BASE_MODEL_NAME}}),
            ("modelRef neither", lambda s: {**s, "modelRef": {"alias": "champion"}}),
            ("canary weights decreasing", lambda s: {**s, "strategy": {"canary": {"steps": [{"weight": 50}, {"weight": 10}]}}}),
            ("autoscaling min over max", lambda s: {**s, "autoscaling": {"minReplicas": 3, "maxReplicas": 2}}),
        ],
    }[kind]


@st.composite
def broken_specs(draw, kind: Kind, data_uri: str) -> tuple[dict, str]:
    """(a spec with one mutation, what the mutation was)."""
    spec = draw(valid_specs(kind, data_uri))
    options = _mutations(spec, _sites(spec, spec_schema(kind), ()))
    mutation = draw(st.one_of(st.sampled_from(options), st.sampled_from(_cel_breakers(kind.kind))))
    if len(mutation) == 2:
        label, breaker = mutation
        return breaker(spec), f"CEL: {label}"
    label, at, change = mutation
    return _set(spec, at, change(_get(spec, at))), f"{label} at spec.{'.'.join(map(str, at))}"
