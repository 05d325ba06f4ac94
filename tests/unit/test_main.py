"""`python -m mlops_operator`'s command line."""

from mlops_operator.__main__ import parse_args


def test_the_liveness_endpoint_listens_on_loopback_unless_told_otherwise():
    assert parse_args(["-A"]).liveness == "http://127.0.0.1:8080/healthz"
    assert parse_args(["-n", "ns", "--liveness", "http://10.244.0.7:8080/healthz"]).liveness.startswith("http://10.")


def test_metrics_are_served_on_loopback_unless_told_otherwise():
    assert parse_args(["-A"]).metrics_address == "127.0.0.1:8383"
    assert parse_args(["-A", "--metrics-address", "10.244.0.7:9090"]).metrics_address == "10.244.0.7:9090"
    assert parse_args(["-A", "--metrics-address", ""]).metrics_address == ""
