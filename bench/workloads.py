"""The benchmark's workloads (issue 14): each returns a JSON-able dict of its measurements, and
the series a plot draws as `curves` ({name: [[seconds, value], ...]})."""

import subprocess
import sys
import time
from dataclasses import dataclass

import floor as floors
from harness import OPERATOR, Bench, by_verb, wait_until, writes
from objects import at_rest, in_namespace

OPERATOR_USER = f"system:serviceaccount:mlops-bench:{OPERATOR}"
PHASES = ("Dataset", "Experiment", "Model", "Deployment")
# Each look at the objects' progress is a scrape of the operator's /metrics, megabytes at the full
# size: looking every second would measure the bench's own load.
RECORD_INTERVAL = 2.0


@dataclass(frozen=True)
class Size:
    name: str
    fan_out: tuple[int, int, int]  # W1: experiments, trials each, parallelism
    at_rest: int  # W2, W3: objects
    idle_seconds: float  # W2: how long the idle operator is watched
    burst: int  # W4: experiments edited
    latency: tuple[int, int, int]  # W5: experiments, trials each, parallelism


SIZES = {
    "smoke": Size("smoke", (3, 4, 2), 200, 10, 3, (2, 5, 5)),
    "medium": Size("medium", (20, 10, 5), 2_000, 60, 10, (5, 10, 5)),  # before/after comparisons while tuning
    "full": Size("full", (50, 20, 5), 10_000, 300, 50, (10, 10, 5)),
}


def bare_import_rss_mb() -> float:
    """RSS of a Python that imports the operator's dependencies and nothing of its own."""
    code = ("import kopf, lightkube, pydantic, prometheus_client, yaml; "
            "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])")
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) / 1024


def at_rest_and_restart(bench: Bench, size: Size, earlier: dict) -> dict:
    """W2 (at rest) and W3 (restart over converged objects, cold start over unseen ones)."""
    namespace = bench.namespace("w2-at-rest")
    operator = bench.operator("w2", namespace).start()
    empty_idle_rss = _settle_rss(operator)
    objects = in_namespace(at_rest(size.at_rest), namespace)
    bench.audit.mark()
    started = time.monotonic()
    curve = []
    bench.kubectl.apply(objects)
    wait_until(lambda: _record(curve, started, operator, {namespace}, len(objects)), 3600,
               f"{len(objects)} objects settled", interval=RECORD_INTERVAL)
    converged = time.monotonic() - started
    operator.idle()
    first_writes = bench.audit.since_mark(OPERATOR_USER)
    rss = _settle_rss(operator)

    bench.audit.mark()
    cpu_before, watched = operator.cpu_seconds(), time.monotonic()
    time.sleep(size.idle_seconds)
    idle_cpu = (operator.cpu_seconds() - cpu_before) / (time.monotonic() - watched)
    idle_requests = bench.audit.since_mark(OPERATOR_USER)

    operator.stop()
    bench.audit.mark()
    restarted = bench.operator("w3-restart", namespace).start()
    restart_started = time.monotonic()
    idle_at = restarted.idle()
    restart = {"seconds_to_idle": round(idle_at - restart_started, 2),
               "writes": writes(bench.audit.since_mark(OPERATOR_USER)),
               "requests": by_verb(bench.audit.since_mark(OPERATOR_USER)), "peak_rss_mb": restarted.peak_rss_mb}
    restarted.stop()

    unseen = bench.namespace("w3-cold-start")
    fresh = in_namespace(at_rest(size.at_rest, prefix="c"), unseen)
    bench.kubectl.apply(fresh)
    bench.audit.mark()
    cold = bench.operator("w3-cold", unseen).start()
    cold_started, cold_curve = time.monotonic(), []
    wait_until(lambda: _record(cold_curve, cold_started, cold, {unseen}, len(fresh)), 3600,
               f"{len(fresh)} unseen objects given a status", interval=RECORD_INTERVAL)
    cold_seconds = time.monotonic() - cold_started
    cold.idle()
    cold_writes = bench.audit.since_mark(OPERATOR_USER)
    cold.stop()
    # The floor: a status write for each of the same objects, as many at once as the operator's
    # workers (per kind, four kinds).
    floor_seconds = floors.status_writes(floors.FloorClient(bench), fresh, workers=4 * len(PHASES))
    per_thousand = 1000 / len(objects)
    bare = bare_import_rss_mb()
    return {
        "W2_at_rest": {
            "objects": len(objects), "seconds_to_settle": round(converged, 2),
            "writes_to_settle": writes(first_writes),
            "writes_per_object": round(writes(first_writes) / len(objects), 2),
            "minimum_writes": minimum_writes(objects),
            "writes_over_minimum": round(writes(first_writes) / minimum_writes(objects), 2),
            "requests_to_settle": by_verb(first_writes),
            "idle_rss_mb_empty": round(empty_idle_rss, 1), "idle_rss_mb": round(rss, 1),
            "rss_mb_per_1000_objects": round((rss - empty_idle_rss) * per_thousand, 1),
            "bare_import_rss_mb": round(bare, 1), "idle_rss_over_bare_import": round(empty_idle_rss / bare, 2),
            "idle_seconds": size.idle_seconds, "idle_cpu_cores": round(idle_cpu, 4),
            "idle_writes": writes(idle_requests), "idle_requests": by_verb(idle_requests),
        },
        "W3_restart": restart,
        "W3_cold_start": {
            "objects": len(fresh), "seconds_to_last_status": round(cold_seconds, 2),
            "objects_per_second": round(len(fresh) / cold_seconds, 1), "peak_rss_mb": round(cold.peak_rss_mb, 1),
            "peak_rss_mb_per_1000_objects": round((cold.peak_rss_mb - empty_idle_rss) * 1000 / len(fresh), 1),
            "writes": writes(cold_writes), "writes_per_object": round(writes(cold_writes) / len(fresh), 2),
            "floor_seconds": round(floor_seconds, 2), "over_floor": round(cold_seconds / floor_seconds, 2),
        },
        "curves": {"W2 settled objects": curve, "W3 cold start: objects with a status": cold_curve},
    }


# What a correct operator must write for each kind of the objects at rest to settle: a Dataset
# its validation Job and two statuses (Validating while the Job runs, then Ready); the waiting kinds
# one status saying what they wait for.
MINIMUM_WRITES = {"Dataset": 3, "Experiment": 1, "Model": 1, "Deployment": 1}


def minimum_writes(objects: list[dict]) -> int:
    return sum(MINIMUM_WRITES[o["kind"]] for o in objects)


def _settle_rss(operator) -> float:
    operator.idle()
    return operator.rss_mb()


def _record(curve: list, started: float, operator, namespaces: set[str], count: int) -> bool:
    phased = sum(v for (name, labels), v in operator.metrics().items()
                 if name == "mlops_objects" and dict(labels)["namespace"] in namespaces
                 and dict(labels)["phase"] != "Unknown")
    operator.rss_mb()
    curve.append([round(time.monotonic() - started, 2), phased])
    return phased >= count

