"""mlops-operator: the machine-learning lifecycle as Kubernetes custom resources."""
