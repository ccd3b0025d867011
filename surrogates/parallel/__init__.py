"""Work beyond one process with Dask (``dask.distributed``; Rocklin, SciPy 2015).

A :class:`~distributed.LocalCluster` on this machine by default, or any running scheduler
given by its address: :func:`dask_client`. On it, :func:`predict_table` predicts with a saved
surrogate over a table larger than memory, partition by partition, and :func:`fit_in_parts`
trains the independent parts of an ensemble (MLP members, BNN chains) on the workers.
"""

from surrogates.parallel.cluster import dask_client
from surrogates.parallel.ensemble import INDEPENDENT_PARTS, fit_in_parts
from surrogates.parallel.predict import predict_table

__all__ = ["INDEPENDENT_PARTS", "dask_client", "fit_in_parts", "predict_table"]
