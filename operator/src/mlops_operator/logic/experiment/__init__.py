"""The Experiment's decisions: when a run starts, which trials start, what each finished trial
means, what status says. Everything derives from the Experiment (its status is the durable record),
its Dataset and its trial Jobs, so a restarted operator decides the same: nothing is started twice
and nothing is lost."""
