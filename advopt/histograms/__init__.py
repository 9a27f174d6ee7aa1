"""Published histograms as a reference: YODA/HEPData files (yoda.py, reference.py), analyses
that fill them from a generator's events (analysis.py), and the fit of a simulator's
parameters to them (surrogate.py, tune.py, result.py)."""
