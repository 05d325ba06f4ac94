"""A development node for the local cluster: pods bound to it run as local processes.

Not a kubelet: it honours the parts of the pod API that the project's jobs, trainers and model
servers use (see docs/operations.md, "The local node"), and says clearly when a pod asks for more.
"""
