"""How the node agent marks what it starts; stdlib only, so the launcher can use it without the
agent's dependencies."""

NODE_MARKER = "MLOPS_LOCALNODE"  # in the environment of every process the node agent starts


def identity(node_name: str, bridge: str) -> str:
    """NAME.BRIDGE: the bridge name is unique per machine, so it tells two local nodes apart."""
    return f"{node_name}.{bridge}"
