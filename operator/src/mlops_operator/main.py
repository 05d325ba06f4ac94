"""Importing this registers the operator's kopf handlers (handlers.operator)."""

from .handlers import operator  # noqa: F401
