"""Training: model protocol, recipes, runs and checkpoints, progress display, the trainer.

Import the modules themselves (this file imports nothing, so no import cycle runs through it).
"""
