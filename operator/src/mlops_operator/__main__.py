"""`python -m mlops_operator`: run the operator (kopf, standalone)."""

import argparse
import logging
import sys

import kopf

from .handlers.operator import SETTINGS  # importing it registers the kopf handlers


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlops_operator", description=__doc__)
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    scope.add_argument("-n", "--namespace", action="append", help="watch this namespace (repeatable; globs allowed)")
    # Loopback by default: an operator run by hand listens nowhere else; in a pod, pass its IP.
    parser.add_argument("--liveness", default="http://127.0.0.1:8080/healthz",
                        help="liveness endpoint URL (default %(default)s; in a pod, e.g. http://$(POD_IP):8080/healthz)")
    parser.add_argument("--metrics-address", default=SETTINGS.metrics_address,
                        help="host:port of the Prometheus /metrics endpoint (default %(default)s; in a pod, "
                             "e.g. $(POD_IP):8383; empty: none)")
    parser.add_argument("--workers", type=int, default=SETTINGS.workers,
                        help=f"concurrent reconciles per kind (default {SETTINGS.workers})")
    parser.add_argument("--refresh-scale", type=float, default=SETTINGS.refresh_scale,
                        help="multiply Dataset refresh intervals by this (tests; the API allows no interval under 1m)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--debug", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    SETTINGS.workers, SETTINGS.refresh_scale = args.workers, args.refresh_scale
    SETTINGS.metrics_address = args.metrics_address
    kopf.configure(verbose=args.verbose, debug=args.debug)
    if not (args.verbose or args.debug):
        # One line per HTTP request and per handled watch event is noise; warnings still show.
        for name in ("httpx", "httpx2", "kopf.objects"):
            logging.getLogger(name).setLevel(logging.WARNING)
    kopf.run(
        standalone=True,
        clusterwide=args.all_namespaces,
        namespaces=args.namespace or (),
        liveness_endpoint=args.liveness,
    )


if __name__ == "__main__":
    main()
