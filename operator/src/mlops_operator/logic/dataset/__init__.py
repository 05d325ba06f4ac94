"""The Dataset's decisions: which validation round is due, what its result means, what to do."""
