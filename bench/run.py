"""`make bench` (full) and `make bench-smoke`: runs the workloads of docs/performance.md on a local
cluster of its own with kwok's simulated nodes, and writes bench/results/<date>-<size>.{json,md,png}.

    python bench/run.py --size smoke|full [--out bench/results] [--state-dir DIR] [--only W1,W2,...]
"""

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report  # noqa: E402
from harness import Bench  # noqa: E402
from sweeps import burst, fan_out, latency  # noqa: E402
from workloads import SIZES, at_rest_and_restart  # noqa: E402

WORKLOADS = {"W1": fan_out, "W4": burst, "W5": latency, "W2": at_rest_and_restart}  # W2 also measures W3
KWOK_NODES = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="smoke")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--state-dir", type=Path, help="the bench cluster's folder (default: a temporary one)")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="workloads to run (default all)")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    started = time.monotonic()
    results: dict = {"size": size.name, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}", "curves": {}}
    bench = Bench(state_dir).start(kwok_nodes=KWOK_NODES)
    try:
        for name in args.only.split(","):
            print(f"bench: {name} ({size.name})", file=sys.stderr, flush=True)
            measured = WORKLOADS[name](bench, size, results)
            results["curves"].update(measured.pop("curves", {}))
            results.update(measured)
    except BaseException as error:
        print(f"bench: failed; the cluster's logs stay in {state_dir}/logs", file=sys.stderr)
        results["failed"] = f"{type(error).__name__}: {error}"
        _write(results, args.out, size.name, started)  # what was measured so far is kept
        bench.close()
        raise
    bench.close()
    if not args.state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)
    _write(results, args.out, size.name, started)
    return 0


def _write(results: dict, out: Path, size: str, started: float) -> None:
    results["bench_seconds"] = round(time.monotonic() - started, 1)
    for path in report.write(results, out, f"{datetime.now(UTC):%Y-%m-%d}-{size}"):
        print(path)


if __name__ == "__main__":
    sys.exit(main())
