"""Pure decisions: no I/O, table-tested."""
