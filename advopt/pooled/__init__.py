"""Parts of the pooled estimator (``optimizer = "pooled"``, :mod:`advopt.optimizers.pooled`):
the learnt summaries (:mod:`advopt.pooled.summary`), the moment fit and its kernel width
(:mod:`advopt.pooled.moments`), and the round plan and folds (:mod:`advopt.pooled.design`)."""
