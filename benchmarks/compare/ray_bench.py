"""Ray's side of the comparison: `ray microbenchmark`'s workloads at prism-bench's sizes.

The workloads mirror python/ray/_private/ray_perf.py (the script behind
`ray microbenchmark`, placement group create/removal included), named as there but in
snake_case, with prism-bench's batch sizes (1000 calls a batch, 2000 puts a repetition,
64 MiB puts...) so that each row of the table compares the same work. Ray's release
tests many_tasks and many_actors (1 M tasks, 10 k actors on a large cluster) are scaled
down to what this machine can run: every Ray actor is a process. Runs inside the
comparison's venv; prints nothing but a line per benchmark.

usage: ray_bench.py --out FILE --num-cpus N [--quick]
"""

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np
import ray

from catalog import SIZES
from records import make_record, write_source

MIB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does; `quick` only checks that everything runs."""

    sync_calls: int
    batch: int
    batches: int
    warmup: int
    small_ops: int
    put_bytes: int
    refs: int
    waits: int
    transfer_sizes: tuple
    many_tasks: int
    many_actors: int
    placement_groups: int


FULL = Sizes(2000, 1000, 21, 2, 2000, 64 * MIB, 10000, 1000, tuple(SIZES), 100_000, 20, 100)
QUICK = Sizes(20, 100, 2, 1, 100, 1 * MIB, 100, 100, ("1MiB",), 1000, 2, 10)
# ray_perf.py's placement groups hold one bundle of this much of a custom resource.
PG_RESOURCE = {"custom": 0.001}


@ray.remote
def small_value():
    return b"ok"


@ray.remote
def make_array(num_bytes):
    return np.ones(num_bytes // 8)


@ray.remote
def create_object_containing_refs(count):
    return [ray.put(1) for _ in range(count)]


@ray.remote(num_cpus=0)
class Actor:
    def small_value(self):
        return b"ok"

    def small_value_batch(self, n):
        ray.get([small_value.remote() for _ in range(n)])


@ray.remote(num_cpus=0)
class Client:
    """Calls every server actor n times and waits for all (ray_perf.py's 1:n client)."""

    def __init__(self, servers):
        self.servers = servers

    def small_value_batch(self, n):
        ray.get([s.small_value.remote() for s in self.servers for _ in range(n)])


@ray.remote
def call_actors(actors, n):
    ray.get([actors[i % len(actors)].small_value.remote() for i in range(n)])


def rates(fn, ops, reps, warmup):
    """Operations per second of `fn` (which does `ops` operations), once per repetition."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(ops / (time.perf_counter() - start))
    return samples


def latencies_us(fn, calls, warmup):
    """Microseconds of each of `calls` calls of `fn`, each timed on its own."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def task_benchmarks(s, num_cpus):
    """single_client_tasks_* and multi_client_tasks_async."""
    yield make_record(
        "single_client_tasks_sync",
        latencies_us(lambda: ray.get(small_value.remote()), s.sync_calls, s.sync_calls // 10),
        "us",
    )
    yield make_record(
        "single_client_tasks_async",
        rates(
            lambda: ray.get([small_value.remote() for _ in range(s.batch)]),
            s.batch,
            s.batches,
            s.warmup,
        ),
        "tasks/s",
    )
    submitters = [Actor.remote() for _ in range(num_cpus)]
    yield make_record(
        "multi_client_tasks_async",
        rates(
            lambda: ray.get([a.small_value_batch.remote(s.batch) for a in submitters]),
            s.batch * len(submitters),
            s.batches,
            s.warmup,
        ),
        "tasks/s",
        note=f"{len(submitters)} actors submit {s.batch} tasks each",
    )


def actor_benchmarks(s, num_cpus):
    """The 1:1, 1:n and n:n actor call rates."""
    a = Actor.remote()
    yield make_record(
        "1_1_actor_calls_sync",
        latencies_us(lambda: ray.get(a.small_value.remote()), s.sync_calls, s.sync_calls // 10),
        "us",
    )
    for name, actor in [
        ("1_1_actor_calls_async", Actor.remote()),
        ("1_1_actor_calls_concurrent", Actor.options(max_concurrency=16).remote()),
    ]:
        yield make_record(
            name,
            rates(
                lambda actor=actor: ray.get([actor.small_value.remote() for _ in range(s.batch)]),
                s.batch,
                s.batches,
                s.warmup,
            ),
            "calls/s",
        )
    servers = [Actor.remote() for _ in range(num_cpus)]
    client = Client.remote(servers)
    yield make_record(
        "1_n_actor_calls_async",
        rates(
            lambda: ray.get(client.small_value_batch.remote(s.batch)),
            s.batch * len(servers),
            s.batches,
            s.warmup,
        ),
        "calls/s",
        note=f"n = {len(servers)} actors",
    )
    yield make_record(
        "n_n_actor_calls_async",
        rates(
            lambda: ray.get([call_actors.remote(servers, s.batch) for _ in range(num_cpus)]),
            s.batch * num_cpus,
            s.batches,
            s.warmup,
        ),
        "calls/s",
        note=f"{num_cpus} caller tasks over {len(servers)} actors",
    )


def object_benchmarks(s):
    """Puts, gets, a large put, a get of 10k refs and waits on 1k refs."""
    value = ray.put(0)
    kept = []

    def put_small():
        kept.extend(ray.put(0) for _ in range(s.small_ops))

    yield make_record(
        "single_client_put_calls", rates(put_small, s.small_ops, s.batches, 1), "ops/s"
    )
    kept.clear()
    yield make_record(
        "single_client_get_calls",
        rates(lambda: [ray.get(value) for _ in range(s.small_ops)], s.small_ops, s.batches, 1),
        "ops/s",
    )
    array = np.ones(s.put_bytes // 8)
    yield make_record(
        "single_client_put_gigabytes",
        rates(lambda: ray.put(array), s.put_bytes / 1e9, s.batches // 2 + 1, 1),
        "GB/s",
        note=f"{s.put_bytes // MIB} MiB numpy array",
    )
    containing = create_object_containing_refs.remote(s.refs)
    yield make_record(
        "single_client_get_object_containing_10k_refs",
        rates(lambda: ray.get(containing), 1, s.batches // 2 + 1, 1),
        "gets/s",
        note=f"{s.refs} refs",
    )

    def wait_each():
        not_ready = [small_value.remote() for _ in range(s.waits)]
        while not_ready:
            _, not_ready = ray.wait(not_ready)

    yield make_record(
        "single_client_wait_1k_refs",
        rates(wait_each, 1, max(1, s.batches // 4), 1),
        "calls/s",
        note=f"{s.waits} tasks, then one ray.wait per ref",
    )


def transfer_benchmarks(s):
    """ray.get of an array a task left in the store; on one node that maps shared memory."""
    for size in s.transfer_sizes:
        num_bytes = int(size.removesuffix("MiB")) * MIB
        samples = []
        for _ in range(s.batches // 2 + 2):
            ref = make_array.remote(num_bytes)
            ray.wait([ref])
            start = time.perf_counter()
            ray.get(ref)
            samples.append(num_bytes / 1e9 / (time.perf_counter() - start))
            del ref
        yield make_record(
            "transfer_bandwidth_" + size,
            samples[1:],
            "GB/s",
            note="zero-copy: one node's shared-memory store, no bytes move",
        )


def scale_benchmarks(s):
    """Ray's many_tasks and many_actors release tests, scaled down to this machine."""
    yield make_record(
        "many_tasks_1m_queued",
        rates(
            lambda: ray.get([small_value.remote() for _ in range(s.many_tasks)]), s.many_tasks, 1, 0
        ),
        "tasks/s",
        note=f"{s.many_tasks} tasks queued at once, not 1 M",
    )

    def create_actors():
        actors = [Actor.remote() for _ in range(s.many_actors)]
        ray.get([a.small_value.remote() for a in actors])
        for a in actors:
            ray.kill(a)

    yield make_record(
        "many_actors_10k",
        rates(create_actors, s.many_actors, 1, 0),
        "actors/s",
        note=f"{s.many_actors} actors (one process each), not 10 k",
    )


def placement_group_benchmarks(s):
    """ray_perf.py's placement group create/removal: create n, wait for all, remove all."""

    def create_remove():
        groups = [ray.util.placement_group([PG_RESOURCE]) for _ in range(s.placement_groups)]
        for group in groups:
            group.wait(timeout_seconds=30)
        for group in groups:
            ray.util.remove_placement_group(group)

    yield make_record(
        "placement_group_create_removal",
        rates(create_remove, s.placement_groups, s.batches // 2 + 1, 1),
        "groups/s",
        note=f"{s.placement_groups} groups of one bundle a repetition",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--num-cpus", type=int, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL

    ray.init(
        num_cpus=args.num_cpus,
        resources={"custom": 100},
        include_dashboard=False,
        log_to_driver=False,
    )
    records = []
    for group in [
        task_benchmarks(sizes, args.num_cpus),
        actor_benchmarks(sizes, args.num_cpus),
        object_benchmarks(sizes),
        transfer_benchmarks(sizes),
        scale_benchmarks(sizes),
        placement_group_benchmarks(sizes),
    ]:
        for record in group:
            print(f"ray  {record['name']:<46} {record['value']:12.4g} {record['unit']}", flush=True)
            records.append(record)
    ray.shutdown()
    command = " ".join(["ray_bench.py"] + sys.argv[1:])
    write_source(args.out, "ray", ray.__version__, command, records)


if __name__ == "__main__":
    main()
