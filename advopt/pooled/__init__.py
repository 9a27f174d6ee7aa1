"""Parts of the pooled estimator (``optimizer = "pooled"``, the method in :mod:`advopt.pooled.estimator`):
the learnt summaries (:mod:`advopt.pooled.summary`), the moment fit and its kernel width
(:mod:`advopt.pooled.moments`), and the round plan and folds (:mod:`advopt.pooled.design`)."""
