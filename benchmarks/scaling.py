"""Running at scale: MPI strong scaling, Dask batch prediction, speed-up over SOFTSUSY.

A benchmark that prints markdown tables, not a test. Three parts (``--parts``):

- ``mpi``: an UltraNest fit (4 free parameters, ``--live-points``, a Gaussian likelihood
  that costs ``--delay-ms`` per point, slept, as an external code would) at 1 and 2 MPI ranks: wall
  time, likelihood calls, efficiency, the serial fraction ``f`` of Amdahl's law
  :math:`S(N) = 1 / (f + (1 - f)/N)` from the two timings, and S(N) for 100-1000 ranks;
- ``predict``: ``predict_table`` throughput in-process vs a Dask LocalCluster of 2 workers
  (the shipped 100-network m_h BNN, ``--predict-rows`` points in 8 partitions; the part
  ``throughput`` alone skips the rest), and the peak memory of
  predicting a table of ``--big-rows`` points (a small MLP) in partitions of
  ``--partition-rows``: the table is 10x or more the per-worker budget for table data;
- ``softsusy``: the shipped m_h BNN (100 networks) against ``softpoint.x`` on the same
  points, both on the machine's 2 cores (two SOFTSUSY processes at a time).

Example::

    nice -n 10 python benchmarks/scaling.py --parts mpi,predict,softsusy
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FREE = {"M1": [100, 1500], "M2": [100, 1500], "mu": [100, 1500], "tanb": [2, 60]}
CENTRE, WIDTH = np.array([600.0, 800.0, 900.0, 20.0]), np.array([30.0, 40.0, 50.0, 3.0])


# ------------------------------------------------------------------------------- MPI
def _ultranest_rank(delay_ms: float, live: int, out: str) -> None:
    """One rank of the MPI benchmark (run under mpiexec); rank 0 prints a JSON line."""
    import logging

    from mpi4py import MPI

    from fits import pmssm19_prior, run_ultranest
    from surrogates.space import PARAMETER_NAMES, parameter_index

    logging.getLogger("ultranest").setLevel(logging.WARNING)
    idx = [parameter_index(n) for n in FREE]
    spent = [0.0]

    def likelihood(X: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        time.sleep(delay_ms * 1e-3 * len(X))
        logl = -0.5 * (((X[:, idx] - CENTRE) / WIDTH) ** 2).sum(axis=1)
        spent[0] += time.perf_counter() - start
        return logl

    bench = dict.fromkeys(PARAMETER_NAMES, 1000.0) | {"tanb": 10.0, "At": 0.0, "Ab": 0.0,
                                                       "Atau": 0.0}
    prior = pmssm19_prior(bench, FREE)
    comm = MPI.COMM_WORLD
    comm.Barrier()
    start = time.perf_counter()
    res = run_ultranest(likelihood, prior, out, min_num_live_points=live, resume=False, seed=0)
    wall = time.perf_counter() - start
    in_likelihood = comm.gather(spent[0], root=0)
    if comm.Get_rank() == 0:
        print(json.dumps({"ranks": comm.Get_size(), "wall": wall, "n_calls": res.n_calls,
                          "likelihood_seconds": in_likelihood,
                          "log_z": res.log_evidence}), flush=True)


def mpi_scaling(delay_ms: float, live: int) -> dict:
    """Wall time at 1 and 2 ranks, efficiency and Amdahl's serial fraction."""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    rows = {}
    for n in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [str(mpiexec), "-n", str(n), sys.executable, __file__, "--rank-job",
                 str(delay_ms), str(live), tmp], capture_output=True, text=True, check=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"})
        rows[n] = json.loads([x for x in proc.stdout.splitlines() if x.startswith("{")][-1])
    t1, t2 = rows[1]["wall"], rows[2]["wall"]
    # per call, so that a different number of calls at 2 ranks does not count as speed-up
    c1, c2 = t1 / rows[1]["n_calls"], t2 / rows[2]["n_calls"]
    speedup = c1 / c2
    serial = max(2.0 / speedup - 1.0, 0.0)  # S(2) = 1 / (f + (1 - f)/2)
    direct = 1.0 - rows[1]["likelihood_seconds"][0] / t1
    amdahl = {n: 1.0 / (serial + (1.0 - serial) / n) for n in (10, 100, 1000)}
    return {"rows": rows, "speedup_per_call": speedup, "efficiency": speedup / 2,
            "serial_fraction": serial, "serial_fraction_1rank": direct, "amdahl": amdahl}


# --------------------------------------------------------------------------- predict
def _rss_reset() -> int:
    """Reset this process's peak RSS (Linux clear_refs); its current RSS in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(key)


def _peak() -> int:
    return _status("VmHWM")


def _table(path: Path, n: int, seed: int = 0) -> None:
    """A Parquet file of ``n`` reference points drawn with replacement, row groups of 50,000."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from surrogates.data import features, load_dataset
    from surrogates.space import PARAMETER_NAMES

    X = np.asarray(features(load_dataset("higgs_mass", "full")))
    rng = np.random.default_rng(seed)
    writer = None
    for start in range(0, n, 250_000):
        cols = X[rng.integers(0, len(X), min(250_000, n - start))]
        table = pa.table({name: cols[:, i] for i, name in enumerate(PARAMETER_NAMES)})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=50_000)
    writer.close()


def predict_benchmark(rows: int, big_rows: int, partition_rows: int, memory: bool = True) -> dict:
    import torch

    from surrogates import Surrogate
    from surrogates.data import features, labels, load_dataset, split_dataset
    from surrogates.mlp import MLPEnsemble
    from surrogates.parallel import dask_client, predict_table
    from surrogates.parallel.predict import _model

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bnn = Surrogate.pretrained("higgs_mass")
        bnn_dir = bnn.save(tmp / "bnn")
        small = tmp / "small.parquet"
        _table(small, rows)
        torch.set_num_threads(2)
        chunk = max(rows // 8, 1)  # 8 partitions: 4 per worker
        start = time.perf_counter()
        predict_table(bnn_dir, small, tmp / "a.parquet", partition_rows=chunk, progress=False)
        out["in_process_points_per_s"] = rows / (time.perf_counter() - start)
        torch.set_num_threads(1)
        with dask_client(n_workers=2) as client:
            # warm-up: the workers load torch and the model once
            predict_table(bnn_dir, small, tmp / "w.parquet", client=client,
                          partition_rows=chunk, progress=False)
            start = time.perf_counter()
            predict_table(bnn_dir, small, tmp / "b.parquet", client=client,
                          partition_rows=chunk, progress=False)
            out["dask_points_per_s"] = rows / (time.perf_counter() - start)
        if not memory:
            return out
        # peak memory: a table >= 10x the per-worker budget for table data
        split = split_dataset(load_dataset("higgs_mass", "full"), seed=0)
        mlp = MLPEnsemble("higgs_mass", n_members=5, epochs=2).fit(
            features(split.train), labels(split.train, "higgs_mass"), progress=False)
        mlp_dir = mlp.save(tmp / "mlp")
        big = tmp / "big.parquet"
        _table(big, big_rows, seed=1)
        table_bytes = big_rows * 19 * 8
        budget = table_bytes // 10
        with dask_client(n_workers=2, memory_limit="2GiB") as client:
            client.run(lambda: _model(str(mlp_dir.resolve()),
                                      (mlp_dir / "metadata.json").stat().st_mtime))
            base = client.run(_rss_reset)
            client_base = _rss_reset()
            start = time.perf_counter()
            predict_table(mlp_dir, big, tmp / "big_out.parquet", client=client,
                          partition_rows=partition_rows, progress=False)
            seconds = time.perf_counter() - start
            peak = client.run(_peak)
            client_peak = _peak()
        out["memory"] = {
            "rows": big_rows, "table_MB": table_bytes / 1e6, "budget_MB": budget / 1e6,
            "partition_rows": partition_rows, "seconds": seconds,
            "worker_increase_MB": [(peak[w] - base[w]) / 1e6 for w in base],
            "worker_peak_MB": [peak[w] / 1e6 for w in base],
            "client_increase_MB": (client_peak - client_base) / 1e6,
        }
    return out


# -------------------------------------------------------------------------- softsusy
def softsusy_speedup(n_points: int, batch: int) -> dict | None:
    import torch
    from accuracy import softsusy_seconds

    from surrogates import Surrogate
    from surrogates.data import features, load_dataset, split_dataset

    X = np.asarray(features(split_dataset(load_dataset("higgs_mass", "full"), seed=0).test))
    X = X[:n_points]
    start = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:  # two SOFTSUSY processes at a time: both cores
        parts = list(pool.map(lambda rows: softsusy_seconds(rows, len(rows)),
                              np.array_split(X, 2)))
    if parts[0] is None:
        return None
    soft_wall = time.perf_counter() - start
    torch.set_num_threads(2)
    model = Surrogate.pretrained("higgs_mass")
    model.predict(X[:10])
    start = time.perf_counter()
    model.predict(X)
    same = time.perf_counter() - start
    Xb = X[np.random.default_rng(0).integers(0, len(X), batch)]
    start = time.perf_counter()
    model.predict(Xb)
    big = time.perf_counter() - start
    soft_rate = n_points / soft_wall
    return {"networks": model.n_members, "points": n_points,
            "softsusy_s_per_call": float(np.mean(np.concatenate(parts))),
            "softsusy_points_per_s_2cores": soft_rate,
            "surrogate_points_per_s_same_points": n_points / same,
            "surrogate_points_per_s_batch": batch / big,
            "speedup_same_points": n_points / same / soft_rate,
            "speedup_batch": batch / big / soft_rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", default="mpi,predict,softsusy")
    ap.add_argument("--delay-ms", type=float, default=10.0)
    ap.add_argument("--live-points", type=int, default=100)
    ap.add_argument("--predict-rows", type=int, default=20_000)
    ap.add_argument("--big-rows", type=int, default=2_000_000)
    ap.add_argument("--partition-rows", type=int, default=20_000)
    ap.add_argument("--softsusy-points", type=int, default=100)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--rank-job", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank_job:
        _ultranest_rank(float(args.rank_job[0]), int(args.rank_job[1]), args.rank_job[2])
        return
    parts = args.parts.split(",")
    if "mpi" in parts:
        r = mpi_scaling(args.delay_ms, args.live_points)
        print(f"\n### UltraNest strong scaling ({args.delay_ms} ms per likelihood point, "
              f"{args.live_points} live points)\n")
        print("| ranks | wall s | calls | ms per call | likelihood s (per rank) |")
        print("|---|---|---|---|---|")
        for n, row in r["rows"].items():
            spent = ", ".join(f"{s:.1f}" for s in row["likelihood_seconds"])
            print(f"| {n} | {row['wall']:.1f} | {row['n_calls']} | "
                  f"{1e3 * row['wall'] / row['n_calls']:.3f} | {spent} |")
        print(f"\nspeed-up per call at 2 ranks {r['speedup_per_call']:.2f}, efficiency "
              f"{r['efficiency']:.0%}; serial fraction from the two timings f = "
              f"{r['serial_fraction']:.3f} (outside the likelihood at 1 rank: "
              f"{r['serial_fraction_1rank']:.3f}); Amdahl S(10, 100, 1000) = "
              + ", ".join(f"{v:.1f}" for v in r["amdahl"].values()))
    if "predict" in parts or "throughput" in parts:
        r = predict_benchmark(args.predict_rows, args.big_rows, args.partition_rows,
                              memory="predict" in parts)
        print(f"\n### Batch prediction (shipped m_h BNN, 100 networks, {args.predict_rows} "
              "points in 8 partitions)\n")
        print("| where | points/s |\n|---|---|")
        print(f"| in-process (2 threads) | {r['in_process_points_per_s']:.0f} |")
        print(f"| Dask, 2 workers x 1 thread | {r['dask_points_per_s']:.0f} |")
    if "predict" in parts:
        m = r["memory"]
        print(f"\n### Peak memory, {m['rows']} rows ({m['table_MB']:.0f} MB of inputs), "
              f"budget {m['budget_MB']:.0f} MB of table data per worker\n")
        print("| process | increase over idle MB | peak RSS MB |\n|---|---|---|")
        for i, (inc, pk) in enumerate(zip(m["worker_increase_MB"], m["worker_peak_MB"],
                                          strict=True)):
            print(f"| worker {i} | {inc:.0f} | {pk:.0f} |")
        print(f"| client | {m['client_increase_MB']:.0f} | |")
        print(f"\n{m['rows']} rows in {m['seconds']:.1f} s, partitions of "
              f"{m['partition_rows']} rows")
    if "softsusy" in parts:
        r = softsusy_speedup(args.softsusy_points, args.batch)
        if r is None:
            print("\nSOFTSUSY (../shared/tools/softsusy/softpoint.x) is absent: skipped")
        else:
            print(f"\n### Surrogate ({r['networks']} networks) vs SOFTSUSY, 2 cores\n")
            print("| | points/s | speed-up |\n|---|---|---|")
            print(f"| SOFTSUSY, 2 processes ({r['softsusy_s_per_call']:.3f} s per call) | "
                  f"{r['softsusy_points_per_s_2cores']:.1f} | 1 |")
            print(f"| BNN, the same {r['points']} points | "
                  f"{r['surrogate_points_per_s_same_points']:.0f} | "
                  f"{r['speedup_same_points']:.0f}x |")
            print(f"| BNN, batch of {args.batch} | {r['surrogate_points_per_s_batch']:.0f} | "
                  f"{r['speedup_batch']:.0f}x |")


if __name__ == "__main__":
    main()
