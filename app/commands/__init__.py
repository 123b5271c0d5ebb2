"""Click commands of the `essaycoach` CLI, one module per command group."""
