#!/usr/bin/env python3
"""Records every state the four kinds pass through on a live cluster, for the Argo CD health
checks' test data (manifests/argocd/resource_customizations/mlops.dev/<Kind>/testdata).

    python3 hack/argocd_watch.py OUT_DIR        # until interrupted (SIGINT/SIGTERM)

It runs `kubectl get <kind> --all-namespaces --watch -o json` for each kind with the KUBECONFIG
and kubectl of the environment, and appends each object the watch shows, as one JSON line, to
OUT_DIR/<Kind>.jsonl. Run it beside the end-to-end tests on the same cluster, e.g.

    python3 hack/localcluster.py up --state-dir /tmp/c && eval "$(python3 hack/localcluster.py env --state-dir /tmp/c)"
    python3 hack/argocd_watch.py /tmp/capture & \
    USE_EXISTING_CLUSTER=true python -m pytest tests/e2e/test_serving.py ...

then pick fixtures from the lines with hack/argocd_fixtures.py (`live` command).
Needs only the standard library.
"""

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

KINDS = {"Dataset": "datasets.mlops.dev", "Experiment": "experiments.mlops.dev", "Model": "models.mlops.dev",
         "Deployment": "deployments.mlops.dev"}


def objects(stream):
    """JSON documents of a stream of concatenated, pretty-printed ones."""
    decoder, buffer = json.JSONDecoder(), ""
    for line in stream:
        buffer += line
        while buffer.strip():
            try:
                document, end = decoder.raw_decode(buffer.lstrip())
            except json.JSONDecodeError:
                break
            yield document
            buffer = buffer.lstrip()[end:]


def record(kind: str, resource: str, out: Path, processes: list) -> None:
    process = subprocess.Popen(["kubectl", "get", resource, "--all-namespaces", "--watch", "-o", "json"],
                               stdout=subprocess.PIPE, text=True)
    processes.append(process)
    with (out / f"{kind}.jsonl").open("a") as sink:
        for document in objects(process.stdout):
            sink.write(json.dumps(document, sort_keys=True) + "\n")
            sink.flush()


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    threads = [threading.Thread(target=record, args=(kind, resource, out, processes), daemon=True)
               for kind, resource in KINDS.items()]
    for thread in threads:
        thread.start()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    for process in processes:
        process.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
