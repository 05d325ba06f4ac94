"""kopf wiring and the reconciles: each reconcile gathers (all reads), calls its kind's pure plan,
and applies it (writes only)."""
