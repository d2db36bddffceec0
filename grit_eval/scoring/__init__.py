"""Scoring GRIT predictions: per-sample dispatch, submission reading, ``grit-eval-score``.

Public API: ``sample_scorer.score_sample``, ``sample_scorer.sample_outcome``,
``submission_reader.open_submission`` / ``read_predictions``,
``submission_scoring.score_submission_tasks`` (the one path of runs and the scorer),
``environment.numeric_environment``, ``cli.main``.
Nothing heavy is imported here, so ``grit-eval-score --help`` stays instant.
"""
