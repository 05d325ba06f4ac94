"""The smallest JSON merge patch (RFC 7386) from what status holds to what it should hold."""

from typing import Any


def merge_patch(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """Keys whose value changes, with null for keys to remove; nested objects are patched key by
    key, lists are replaced whole (as a merge patch does). Empty when nothing changes."""
    patch: dict[str, Any] = {key: None for key in current if key not in desired and current[key] is not None}
    for key, value in desired.items():
        old = current.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            nested = merge_patch(old, value)
            if nested:
                patch[key] = nested
        elif value != old:
            patch[key] = value
    return patch


def applied(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """current with patch applied, as the API server applies a merge patch."""
    result = dict(current)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = applied(result[key], value)
        else:
            result[key] = value
    return result

