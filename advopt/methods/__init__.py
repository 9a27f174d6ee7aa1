"""Ways of tuning behind one protocol (advopt/methods/base.py), built by name in
advopt/methods/registry.py; the per-point method here, AVO in advopt/avo/, the pooled
estimator in advopt/pooled/."""
