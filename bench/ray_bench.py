"""Ray, measured the way lp-bench measures lp: run by `lp-bench` (bench/src/ray.rs), prints one
JSON object on its last line of standard output.

- for each `--placement CALLER:CALLEE` (vCPUs: the caller is this driver, every thread of it;
  the callee an actor), as lp-bench places its own caller and callee; Ray's own daemons may
  use every vCPU:
  - `p50_us`: the median of sequential calls of the actor's synchronous `work(x) -> x + 1`;
  - `rate`: calls/s with `--in-flight` calls open (the window refilled as replies come);
- `launch_ms`: `--actors` new actors until each answered a call, the cluster already up (its
  start, `init_ms`, is reported apart).
"""

import argparse
import json
import os
import statistics
import sys
import time


def pin(cpu):
    """Every thread of this process onto one vCPU (threads started later inherit it)."""
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:
            pass  # a thread that exited meanwhile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--placement", action="append", required=True, help="CALLER:CALLEE")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--in-flight", type=int, required=True)
    parser.add_argument("--window", type=float, required=True, help="seconds")
    parser.add_argument("--actors", type=int, required=True)
    args = parser.parse_args()

    # Ray's daemons may use every vCPU (lp-bench runs pinned to one; this undoes it for them).
    os.sched_setaffinity(0, range(os.cpu_count()))
    started = time.perf_counter()
    import ray

    ray.init(
        num_cpus=os.cpu_count(),
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        object_store_memory=128 << 20,
    )
    init_ms = (time.perf_counter() - started) * 1e3

    @ray.remote
    class Work:
        def __init__(self, cpu):
            if cpu is not None:
                pin(cpu)

        def work(self, x):
            return x + 1

    def measure(caller, callee):
        work = Work.remote(callee)
        ray.get(work.work.remote(0))
        pin(caller)
        latencies = []
        for i in range(args.calls):
            t = time.perf_counter()
            assert ray.get(work.work.remote(i)) == i + 1
            latencies.append(time.perf_counter() - t)
        done = 0
        pending = [work.work.remote(i) for i in range(args.in_flight)]
        t = time.perf_counter()
        while time.perf_counter() - t < args.window:
            ready, pending = ray.wait(pending, num_returns=1)
            done += len(ray.get(ready))
            pending.extend(work.work.remote(i) for i in range(len(ready)))
        rate = done / (time.perf_counter() - t)
        ray.get(pending)
        ray.kill(work)
        return {"p50_us": statistics.median(latencies) * 1e6, "rate": rate}

    try:
        placements = []
        for placement in args.placement:
            caller, callee = (int(cpu) for cpu in placement.split(":"))
            placements.append(measure(caller, callee))
        t = time.perf_counter()
        actors = [Work.remote(None) for _ in range(args.actors)]
        ray.get([a.work.remote(0) for a in actors])
        launch_ms = (time.perf_counter() - t) * 1e3
    finally:
        ray.shutdown()

    print(
        json.dumps(
            {
                "version": ray.__version__,
                "init_ms": init_ms,
                "placements": placements,
                "launch_ms": launch_ms,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
