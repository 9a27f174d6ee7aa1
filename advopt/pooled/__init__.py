"""Parts of the pooled estimator (``optimizer = "pooled"``, :mod:`advopt.optimizers.pooled`):
the learnt summaries (:mod:`advopt.pooled.summary`) and the moment fit (:mod:`advopt.pooled.moments`)."""
