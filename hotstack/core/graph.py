"""Dependency-graph scheduling: each node starts as soon as every node it depends on is done.

No waves: up to `workers` ready nodes run at once, and the moment one finishes the nodes
waiting only on it start (picked by `priority` when given, else in the mapping's order).
After a failure nothing new starts (in particular nothing that depends on the failed node);
nodes already running are allowed to finish, and the result says what succeeded, what failed
and what never started. `up` runs this over the catalog's `depends_on`, `down` over the
reversed graph (a service stops once its dependents are gone), image builds over each
image's parent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

R = TypeVar("R")
DEFAULT_WORKERS = 8


@dataclass
class GraphRun(Generic[R]):
    results: dict[str, R] = field(default_factory=dict)
    failed: dict[str, BaseException] = field(default_factory=dict)
    not_started: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started


def restrict(deps: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """The graph limited to its own nodes: a dependency outside the selection counts as met."""
    return {name: {d for d in wanted if d in deps and d != name} for name, wanted in deps.items()}


def reverse(deps: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Each node → the nodes that depend on it (for stopping in reverse order)."""
    graph = restrict(deps)
    rev: dict[str, set[str]] = {name: set() for name in graph}
    for name, wanted in graph.items():
        for dep in wanted:
            rev[dep].add(name)
    return rev


def closure(deps: Mapping[str, Iterable[str]], names: Iterable[str]) -> list[str]:
    """`names` plus everything they depend on, in the graph's own order."""
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(deps[name])
    return [n for n in deps if n in wanted]


def run_graph(deps: Mapping[str, Iterable[str]], work: Callable[[str], R], *,
              workers: int = DEFAULT_WORKERS, on_ready: Callable[[str], None] | None = None,
              on_interrupt: Callable[[], None] | None = None,
              priority: Callable[[list[str]], list[str]] | None = None) -> GraphRun[R]:
    """Run `work(name)` for every node, each once its dependencies succeeded, in parallel.

    `work` signals failure by raising. On Ctrl-C, `on_interrupt` tells running work to stop,
    nothing new starts and nothing is awaited."""
    graph = restrict(deps)
    run: GraphRun[R] = GraphRun()
    pending = list(graph)
    running: dict[Future[R], str] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hotstack")
    try:
        while True:
            if not run.failed:
                ready = [n for n in pending if graph[n] <= run.results.keys()]
                for name in (priority(ready) if priority else ready)[: workers - len(running)]:
                    pending.remove(name)
                    if on_ready:
                        on_ready(name)
                    running[pool.submit(work, name)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                exc = future.exception()
                if exc is not None:
                    run.failed[name] = exc
                else:
                    run.results[name] = future.result()
    except KeyboardInterrupt:
        if on_interrupt:
            on_interrupt()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    if pending and not run.failed:
        raise ValueError(f"dependency cycle among: {', '.join(pending)}")
    run.not_started = pending
    return run


def critical_path(deps: Mapping[str, Iterable[str]], seconds: Mapping[str, float]) -> tuple[float, list[str]]:
    """The slowest dependency chain: each node's own time (`seconds`, 0 when absent) summed
    along the path whose sum is largest. Returns (total, the path from its first node)."""
    graph = restrict(deps)
    best: dict[str, tuple[float, list[str]]] = {}

    def finish(name: str) -> tuple[float, list[str]]:
        if name not in best:
            before = max((finish(dep) for dep in graph[name]), default=(0.0, []), key=lambda b: b[0])
            best[name] = (before[0] + seconds.get(name, 0.0), [*before[1], name])
        return best[name]

    return max((finish(name) for name in graph), default=(0.0, []), key=lambda b: b[0])
