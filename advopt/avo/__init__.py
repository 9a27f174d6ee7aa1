"""Adversarial variational optimisation (``optimizer = "variational"``): its proposal, its
critic and the method that runs the two (advopt/avo/method.py)."""
