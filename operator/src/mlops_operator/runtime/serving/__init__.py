"""The built-in model server's parts (run it with `python -m mlops_operator.runtime.serve`): its settings
from the environment, the Open Inference Protocol's tensors, its Prometheus metrics, the server's state and
its HTTP routes."""
