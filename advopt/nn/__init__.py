"""The torch pieces the discriminators and summary networks share: device choice,
standardised inputs, the MLP, the thread count (networks.py), and the one training loop
(training.py)."""
