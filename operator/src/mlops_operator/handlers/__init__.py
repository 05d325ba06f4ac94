"""Thin kopf handlers: read, call logic/ and resources/, apply, patch."""
