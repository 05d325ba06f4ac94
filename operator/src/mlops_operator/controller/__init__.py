"""Reconcile machinery without I/O: the work queue and the references between objects."""
