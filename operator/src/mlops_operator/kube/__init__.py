"""The operator's Kubernetes client adapter: the only place, with handlers/, that does API I/O."""
