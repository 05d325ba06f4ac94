"""Which Prometheus a canary analysis may query (decision 70): only a base URL the operator's
administrator listed, as listed; a Deployment asking for another is refused, naming the field and
the allowed values."""

import pytest

from mlops_operator.logic.deployment.prometheus import FIELD, address_problem, prometheus_address

PROM = "http://prometheus.monitoring:9090"
THANOS = "https://thanos.monitoring.svc/prefix"


@pytest.mark.parametrize("asked, allowed, url", [
    (PROM, (PROM,), PROM),
    (None, (PROM, THANOS), PROM),  # no address: the first allowed
    ("http://Prometheus.MONITORING:9090/", (PROM,), PROM),  # host case and a trailing '/' aside
    ("https://thanos.monitoring.svc:443/prefix", (PROM, THANOS), THANOS),  # the default port spelled out
    ("http://prometheus.monitoring:9090", ("http://prometheus.monitoring:9090/",), "http://prometheus.monitoring:9090/"),
])
def test_an_allowed_address_is_queried_as_the_administrator_wrote_it(asked, allowed, url):
    assert prometheus_address(asked, allowed).url == url and prometheus_address(asked, allowed).refusal is None


@pytest.mark.parametrize("asked", [
    "http://169.254.169.254/latest/meta-data",  # the cloud's metadata service
    "http://kubernetes.default.svc:443",
    "http://prometheus.monitoring:9091",  # another port
    "https://prometheus.monitoring:9090",  # another scheme
    "http://prometheus.monitoring:9090/api/v1/admin/tsdb",  # another path
    "http://prometheus.monitoring:9090@evil.example",  # userinfo: the host is evil.example
    "http://evil.example#@prometheus.monitoring:9090",
    "http://prometheus.monitoring:9090?x=1",
    "file:///etc/passwd",
    "prometheus.monitoring:9090",
    "http://prometheus.monitoring:notaport",
])
def test_anything_else_is_refused_naming_the_field_and_what_is_allowed(asked):
    choice = prometheus_address(asked, (PROM, THANOS))
    assert choice.url is None
    assert choice.refusal.startswith(f"{FIELD} {asked!r} is not a Prometheus this operator may query")
    assert f"allowed: {PROM}, {THANOS}" in choice.refusal and "--prometheus-address" in choice.refusal


@pytest.mark.parametrize("asked", [PROM, None])
def test_with_nothing_allowed_every_analysis_prometheus_is_refused(asked):
    choice = prometheus_address(asked, ())
    assert choice.url is None and "may query no Prometheus" in choice.refusal
    assert "canaryAnalysis.prometheusAddresses is empty" in choice.refusal
    assert (FIELD in choice.refusal) == (asked is not None)


@pytest.mark.parametrize("flag, problem", [
    (PROM, None), (THANOS, None), ("http://10.0.0.7:9090", None),
    ("prometheus:9090", "is not an http:// or https:// URL with a host"),
    ("ftp://prometheus", "is not an http:// or https:// URL with a host"),
    ("http://user:pw@prometheus", "a base URL has no user, query or fragment"),
    ("http://prometheus/?q=1", "a base URL has no user, query or fragment"),
    ("http://prometheus:port", "Port could not be cast"),
])
def test_the_operators_flags_are_checked_at_start(flag, problem):
    found = address_problem(flag)
    assert (found is None) if problem is None else (problem in found), found
