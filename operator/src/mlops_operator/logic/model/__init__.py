"""The Model's decisions: which evaluation its inputs need, what the gate says of the recorded
scores, which aliases it holds among the versions of its modelName, what status says. Everything
derives from the Models of the modelName, their Dataset and their evaluation Jobs, so every version's
reconcile, and a restarted operator, decides the same."""
