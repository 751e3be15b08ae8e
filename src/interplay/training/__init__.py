"""Training runs that record the information dynamics: loop, checkpoints, records, processes."""
