"""Dask peer for `reel bench`: the same work as Reel's coordinator benchmark on a
general-purpose scheduler, with no durability. Throughput: `--tasks` tasks submitted at once
to 2 worker processes, each returning `--result-bytes` bytes. Round trip: `--sequential`
tasks, each submitted after the previous result arrived."""
import argparse
import json
import logging
import sys
import time

import dask
from dask.distributed import Client, LocalCluster


def payload(index, size):
    return bytes(size)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--sequential", type=int, default=400)
    parser.add_argument("--result-bytes", type=int, default=65536)
    args = parser.parse_args()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        client.gather(client.map(payload, range(50), [args.result_bytes] * 50, pure=False))  # warm up
        started = time.perf_counter()
        futures = client.map(payload, range(args.tasks), [args.result_bytes] * args.tasks, pure=False)
        results = client.gather(futures)
        wall = time.perf_counter() - started
        assert all(len(r) == args.result_bytes for r in results)
        trips = []
        for index in range(args.sequential):
            begun = time.perf_counter()
            client.submit(payload, index, args.result_bytes, pure=False).result()
            trips.append(time.perf_counter() - begun)
    trips.sort()

    def quantile(q):
        return trips[min(len(trips) - 1, round((len(trips) - 1) * q))] * 1000

    print(json.dumps({
        "version": dask.__version__,
        "tasks": args.tasks,
        "tasksPerSecond": args.tasks / wall,
        "roundTripP50Milliseconds": quantile(0.5),
        "roundTripP99Milliseconds": quantile(0.99),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
