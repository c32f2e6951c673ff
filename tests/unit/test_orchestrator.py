"""Graph scheduling with injected work: order, real parallelism, no waves, failure stops dependents."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hotstack import catalog
from hotstack.containers.control import STALE, Container
from hotstack.core.graph import closure, critical_path, reverse, run_graph
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.stack.bringup import decide


class Recorder:
    """Work that sleeps a given time per node and records when each started and ended."""

    def __init__(self, durations: dict[str, float], fail: set[str] | None = None) -> None:
        self.durations, self.fail = durations, fail or set()
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def __call__(self, name: str) -> str:
        with self.lock:
            self.started[name] = time.monotonic() - self.t0
        time.sleep(self.durations.get(name, 0.0))
        with self.lock:
            self.ended[name] = time.monotonic() - self.t0
        if name in self.fail:
            raise RuntimeError(f"{name} probe missed")
        return f"{name} healthy"


def test_each_node_starts_only_after_its_dependencies_succeeded() -> None:
    deps = {"db": (), "mq": (), "keystone": ("db",), "nova": ("keystone", "mq"), "compute": ("nova",)}
    work = Recorder({"db": 0.05, "mq": 0.1, "keystone": 0.05, "nova": 0.05})
    run = run_graph(deps, work)
    assert run.ok and set(run.results) == set(deps)
    for name, wanted in deps.items():
        for dep in wanted:
            assert work.started[name] >= work.ended[dep], f"{name} started before {dep} was done"


def test_independent_nodes_run_in_parallel() -> None:
    deps = {name: () for name in ("mariadb", "rabbitmq", "memcached", "haproxy")}
    work = Recorder(dict.fromkeys(deps, 0.3))
    start = time.monotonic()
    assert run_graph(deps, work).ok
    assert time.monotonic() - start < 0.6  # four 0.3 s nodes, one after another, would take 1.2 s
    assert max(work.started.values()) < 0.1


def test_no_waves_a_node_starts_as_soon_as_its_own_dependencies_are_done() -> None:
    # ovn-northd needs only the fast DBs; it must not wait for slow rabbitmq "in the same wave".
    deps = {"nb": (), "sb": (), "rabbitmq": (), "northd": ("nb", "sb"), "nova": ("rabbitmq",)}
    work = Recorder({"nb": 0.05, "sb": 0.05, "rabbitmq": 0.5})
    assert run_graph(deps, work).ok
    assert work.started["northd"] < work.ended["rabbitmq"] - 0.3


def test_a_failure_starts_nothing_that_depends_on_it_and_lets_running_nodes_finish() -> None:
    deps = {"mariadb": (), "slow": (), "keystone": ("mariadb",), "glance": ("keystone",), "after": ("slow",)}
    work = Recorder({"mariadb": 0.05, "slow": 0.3}, fail={"mariadb"})
    run = run_graph(deps, work)
    assert not run.ok
    assert set(run.failed) == {"mariadb"} and "probe missed" in str(run.failed["mariadb"])
    assert "slow" in run.results  # already running: finished
    assert set(run.not_started) == {"keystone", "glance", "after"}  # nothing new after a failure
    assert "keystone" not in work.started and "glance" not in work.started


def test_dependencies_outside_the_selection_count_as_met_and_cycles_are_refused() -> None:
    assert run_graph({"keystone": ("mariadb",)}, Recorder({})).ok
    with pytest.raises(ValueError, match="cycle"):
        run_graph({"a": ("b",), "b": ("a",)}, Recorder({}))


def test_closure_and_reverse() -> None:
    deps = {"db": (), "mq": (), "keystone": ("db",), "nova": ("keystone", "mq"), "heat": ("keystone",)}
    assert closure(deps, ["nova"]) == ["db", "mq", "keystone", "nova"]
    assert reverse(deps) == {"db": {"keystone"}, "mq": {"nova"}, "keystone": {"nova", "heat"},
                             "nova": set(), "heat": set()}


def test_stopping_in_reverse_order_stops_dependents_first() -> None:
    deps = {"db": (), "keystone": ("db",), "nova": ("keystone",)}
    work = Recorder(dict.fromkeys(deps, 0.02))
    assert run_graph(reverse(deps), work).ok
    assert work.ended["nova"] <= work.started["keystone"] and work.ended["keystone"] <= work.started["db"]


def _container(state: str, config_hash: str) -> Container:
    return Container("hotstack-x", "x", state, config_hash, 0.0)


def test_decide_from_observed_state() -> None:
    assert decide(None, "abc") == "created"
    assert decide(_container("exited", "abc"), "abc") == "started"  # current, only stopped
    assert decide(_container("created", "abc"), "abc") == "started"
    assert decide(_container(STALE, "abc"), "abc") == "recreated"  # podman would not start it
    assert decide(_container("running", "old"), "abc") == "recreated"
    assert decide(_container("exited", "old"), "abc") == "recreated"
    assert decide(_container("running", "abc"), "abc") is None  # keep it if it answers


def test_critical_path_is_the_slowest_chain_of_own_times() -> None:
    deps = {"mariadb": (), "rabbitmq": (), "keystone": ("mariadb",), "glance": ("keystone",),
            "nova-api": ("glance", "rabbitmq"), "heat": ("keystone",)}
    seconds = {"mariadb": 5, "rabbitmq": 30, "keystone": 15, "glance": 17, "nova-api": 30, "heat": 50}
    assert critical_path(deps, seconds) == (70, ["mariadb", "keystone", "heat"])
    assert critical_path(deps, {**seconds, "heat": 1}) == (67, ["mariadb", "keystone", "glance", "nova-api"])
    assert critical_path({}, {}) == (0.0, [])


def test_ctrl_c_tells_running_work_to_stop_and_waits_for_nothing() -> None:
    stop = threading.Event()
    main = threading.get_ident()

    def work(name: str) -> str:
        if name == "interrupt":
            import _thread

            _thread.interrupt_main()
            return name
        stop.wait(5)
        return name

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_graph({"slow": (), "interrupt": (), "later": ("slow",)}, work, on_interrupt=stop.set)
    assert time.monotonic() - start < 2 and threading.get_ident() == main


def test_containers_of_services_switched_off_are_found(settings: Settings) -> None:
    from hotstack.stack.bringup import switched_off

    off = settings.model_copy(update={"horizon": settings.horizon.model_copy(update={"enabled": False})})
    cat = catalog.build(off, Paths(settings.data_dir))
    snapshot = {name: Container(name, service, "running", "h", 1.0) for name, service in (
        ("hotstack-horizon", "horizon"),  # switched off: goes
        ("hotstack-keystone", "keystone"),  # in the catalog: stays
        ("e2e-horizon", "horizon"),  # another deployment's: stays
        ("hotstack-something", ""))}  # no service label: not hotstack's to judge
    assert switched_off(cat, snapshot) == ["hotstack-horizon"]


def test_workers_wait_for_their_apis_jobs_not_for_the_api_itself(settings: Settings) -> None:
    from hotstack.stack.bringup import start_graph

    deps = start_graph(catalog.build(settings, Paths(settings.data_dir)))
    assert "nova-api:jobs" in deps["nova-conductor"] and "nova-api" not in deps["nova-conductor"]
    assert "nova-api:jobs" in deps["nova-api"]  # its own container still starts after its jobs
    assert deps["nova-api:jobs"] == deps["nova-api"][:-1]  # the jobs wait for what the API waits for
    # Scheduled with the API slow to answer, the conductor starts once the jobs are done.
    durations = {"nova-api:jobs": 0.05, "nova-api": 0.4}
    rec = Recorder(durations)
    run = run_graph({n: deps[n] for n in closure(deps, ["nova-conductor", "nova-api"])}, rec, workers=32)
    assert run.ok
    assert rec.started["nova-conductor"] < rec.ended["nova-api"]
    assert rec.started["nova-conductor"] >= rec.ended["nova-api:jobs"]


def test_up_only_a_worker_brings_its_api_too(settings: Settings, monkeypatch: Any) -> None:
    """`up --only nova-conductor`: its probe asks nova-api's API, so the API comes up as well."""
    from hotstack.stack import bringup

    cat = catalog.build(settings, Paths(settings.data_dir))
    started: list[str] = []

    class Fake:
        def __init__(self, *args: Any) -> None:
            self.cancelled = threading.Event()

        def bring_up(self, name: str) -> None:
            started.append(name)

    monkeypatch.setattr(bringup, "Stack", Fake)
    bringup.launch(cat, {}, lambda *a: None, names=["nova-conductor"])
    assert {"nova-conductor", "nova-api", "nova-api:jobs", "keystone", "mariadb", "rabbitmq"} <= set(started)
    assert "cinder-api" not in started and "nova-compute" not in started
