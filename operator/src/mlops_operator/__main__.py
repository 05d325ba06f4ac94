"""`python -m mlops_operator`: run the operator (kopf, standalone; with --leader-elect, one of several replicas)."""

import argparse
import logging
import os
import sys
import urllib.parse

import kopf

from .handlers.operator import SETTINGS  # importing it registers the kopf handlers
from .logic.deployment.prometheus import address_problem
from .logic.leader import Timing
from .logic.liveness import GRACE_SECONDS


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m mlops_operator", description=__doc__)
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="watch every namespace")
    scope.add_argument("-n", "--namespace", action="append", help="watch this namespace (repeatable; globs allowed)")
    # Loopback by default: an operator run by hand listens nowhere else; in a pod, pass its IP.
    parser.add_argument("--liveness", default=SETTINGS.liveness_url,
                        help="liveness endpoint URL: 200 while the API server answers, 503 once it has not for "
                             f"{GRACE_SECONDS:g} s (default %(default)s; in a pod, e.g. "
                             "http://$(POD_IP):8080/healthz; empty: none)")
    parser.add_argument("--metrics-address", default=SETTINGS.metrics_address,
                        help="host:port of the Prometheus /metrics endpoint (default %(default)s; in a pod, "
                             "e.g. $(POD_IP):8383; empty: none)")
    parser.add_argument("--workers", type=int, default=SETTINGS.workers,
                        help=f"concurrent reconciles per kind (default {SETTINGS.workers})")
    parser.add_argument("--refresh-scale", type=float, default=SETTINGS.refresh_scale,
                        help="multiply Dataset refresh intervals by this (tests; the API allows no interval under 1m)")
    parser.add_argument("--prometheus-address", action="append", default=[], metavar="URL",
                        help="a Prometheus base URL canary analyses may query, e.g. http://prometheus.monitoring:9090 "
                             "(repeatable; the first is the default of an analysis that names none; none given: "
                             "a Deployment with analysis.prometheus is refused)")
    election = parser.add_argument_group(
        "leader election", "Run several replicas: only the holder of a coordination.k8s.io Lease reconciles; the "
                           "others watch and wait to take over (docs/operations.md).")
    election.add_argument("--leader-elect", action="store_true",
                          help="reconcile only while holding the Lease (default: off, reconcile at once)")
    election.add_argument("--leader-election-namespace", default=os.environ.get("POD_NAMESPACE", ""),
                          help="the Lease's namespace, the operator's own (default: $POD_NAMESPACE; "
                               "required with --leader-elect)")
    election.add_argument("--leader-election-id", default=SETTINGS.lease_name,
                          help="the Lease's name (default %(default)s)")
    timing = Timing()
    election.add_argument("--leader-elect-lease-duration", type=int, default=int(timing.lease_duration),
                          help="seconds after the holder's last renewal was seen before another replica takes "
                               "over (default %(default)g)")
    election.add_argument("--leader-elect-renew-deadline", type=float, default=timing.renew_deadline,
                          help="seconds the holder keeps trying to renew before it stops (default %(default)g)")
    election.add_argument("--leader-elect-retry-period", type=float, default=timing.retry_period,
                          help="seconds between tries to acquire or renew (default %(default)g)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    args.lease_timing = Timing(args.leader_elect_lease_duration, args.leader_elect_renew_deadline,
                               args.leader_elect_retry_period)
    liveness = urllib.parse.urlsplit(args.liveness)
    if args.liveness and (liveness.scheme != "http" or not liveness.hostname or not liveness.port):
        parser.error(f"--liveness must be an http://host:port/path URL, not {args.liveness!r}")
    for address in args.prometheus_address:
        if problem := address_problem(address):
            parser.error(f"--prometheus-address {problem}")
    if args.leader_elect:
        if not args.leader_election_namespace:
            parser.error("--leader-elect needs the Lease's namespace: --leader-election-namespace or $POD_NAMESPACE")
        for problem in args.lease_timing.problems():
            parser.error(problem)
    return args


class RetriedRequestsAreWarnings(logging.Filter):
    """kopf logs every failed attempt of a request it retries at ERROR ("Request attempt 1/9 failed;
    will retry"): a 429 while a new CRD's storage initializes, an API server restart. Such an attempt
    is not an error until kopf gives up, which it logs at ERROR itself ("escalating"); as a WARNING it
    no longer pages whoever alerts on the operator's ERROR lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.name.startswith("kopf.") and "; will retry:" in str(record.msg):
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        return True


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    SETTINGS.workers, SETTINGS.refresh_scale = args.workers, args.refresh_scale
    SETTINGS.metrics_address, SETTINGS.liveness_url = args.metrics_address, args.liveness
    SETTINGS.prometheus_addresses = tuple(args.prometheus_address)
    SETTINGS.leader_elect, SETTINGS.lease_timing = args.leader_elect, args.lease_timing
    SETTINGS.lease_namespace, SETTINGS.lease_name = args.leader_election_namespace, args.leader_election_id
    kopf.configure(verbose=args.verbose, debug=args.debug)
    for handler in logging.getLogger().handlers:  # kopf.configure's: every record passes them
        handler.addFilter(RetriedRequestsAreWarnings())
    if not (args.verbose or args.debug):
        # One line per HTTP request and per handled watch event is noise; warnings still show.
        for name in ("httpx", "httpx2", "kopf.objects"):
            logging.getLogger(name).setLevel(logging.WARNING)
    kopf.run(
        standalone=True,
        clusterwide=args.all_namespaces,
        namespaces=args.namespace or (),
        liveness_endpoint=None,  # the operator serves its own (controller/liveness.py)
    )


if __name__ == "__main__":
    main()
