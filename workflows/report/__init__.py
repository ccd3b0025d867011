"""Calibration-comparison reports: train or load surrogates, score them, write HTML/Markdown/JSON.

See :func:`workflows.report.compare.run_compare`, the main job of ``bsm-surrogates compare``:
:mod:`~workflows.report.evaluation` predicts and times each model on the test split,
:mod:`~workflows.report.figures` draws and :mod:`~workflows.report.render` writes the report.
"""
