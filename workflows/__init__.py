"""The application: the ``bsm-surrogates`` command and the calibration-comparison report.

It sits on top of the three library packages (``surrogates -> likelihoods -> fits ->
workflows``) and none of them imports it: :mod:`workflows.cli` (``train``, ``predict``,
``evaluate``, ``compare``, and ``fit`` and ``scan`` of :mod:`workflows.fit_commands`),
:mod:`workflows.training` (train or load a model on a data split), :mod:`workflows.scoring`
(the one function that scores a model's prediction) and :mod:`workflows.report` (the
comparison report of ``bsm-surrogates compare``).
"""
