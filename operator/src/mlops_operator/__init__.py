"""mlops-operator: the machine-learning lifecycle as Kubernetes custom resources."""

# pyproject.toml's version and the chart's appVersion (a unit test keeps the three equal). It tags
# the runtime image the operator's own pods run, so an operator runs the runtime of its release.
__version__ = "0.1.0"
