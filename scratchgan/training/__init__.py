"""Training: the model protocol, recipes, runs and checkpoints, the progress display and the trainer."""
