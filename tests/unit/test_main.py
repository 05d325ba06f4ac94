"""`python -m mlops_operator`'s command line."""

import logging

import pytest

from mlops_operator.__main__ import RetriedRequestsAreWarnings, parse_args
from mlops_operator.logic.leader import Timing


def test_the_liveness_endpoint_listens_on_loopback_unless_told_otherwise():
    assert parse_args(["-A"]).liveness == "http://127.0.0.1:8080/healthz"
    assert parse_args(["-n", "ns", "--liveness", "http://10.244.0.7:8080/healthz"]).liveness.startswith("http://10.")


@pytest.mark.parametrize("url", ["0.0.0.0:8080/healthz", "https://10.244.0.7:8080/healthz", "http://10.244.0.7/healthz"])
def test_a_liveness_endpoint_that_cannot_be_served_stops_the_operator_at_start(url, capsys):
    with pytest.raises(SystemExit):
        parse_args(["-A", "--liveness", url])
    assert "--liveness must be an http://host:port/path URL" in capsys.readouterr().err


def test_no_liveness_endpoint_when_asked_for_none():
    assert parse_args(["-A", "--liveness", ""]).liveness == ""


def test_metrics_are_served_on_loopback_unless_told_otherwise():
    assert parse_args(["-A"]).metrics_address == "127.0.0.1:8383"
    assert parse_args(["-A", "--metrics-address", "10.244.0.7:9090"]).metrics_address == "10.244.0.7:9090"
    assert parse_args(["-A", "--metrics-address", ""]).metrics_address == ""


def test_leader_election_is_off_unless_asked_for_and_then_needs_a_namespace(monkeypatch, capsys):
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    assert parse_args(["-A"]).leader_elect is False
    with pytest.raises(SystemExit):
        parse_args(["-A", "--leader-elect"])
    assert "--leader-elect needs the Lease's namespace" in capsys.readouterr().err
    monkeypatch.setenv("POD_NAMESPACE", "mlops-system")  # the chart's, from the downward API
    args = parse_args(["-A", "--leader-elect"])
    assert (args.leader_election_namespace, args.leader_election_id) == ("mlops-system", "mlops-operator-leader")
    assert args.lease_timing == Timing(15, 10, 2)  # client-go's defaults


def test_an_unsafe_lease_timing_is_refused(capsys):
    with pytest.raises(SystemExit):
        parse_args(["-A", "--leader-elect", "--leader-election-namespace", "ns", "--leader-elect-lease-duration", "8"])
    assert "the lease duration must be longer than the renew deadline" in capsys.readouterr().err


@pytest.mark.parametrize("name, message, level", [
    ("kopf._cogs.clients.watching", "Request attempt #1/9 failed; will retry: GET /apis -> 429", logging.WARNING),
    ("kopf._cogs.clients.api", "Request attempt #9/9 failed; escalating: GET /apis -> 429", logging.ERROR),
    ("mlops_operator.handlers", "something; will retry: here", logging.ERROR),  # only kopf's own retries
])
def test_a_request_kopf_retries_is_a_warning_until_it_gives_up(name, message, level):
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)
    assert RetriedRequestsAreWarnings().filter(record)
    assert (record.levelno, record.levelname) == (level, logging.getLevelName(level))
