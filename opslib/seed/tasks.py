"""A tiny dependency scheduler: run named tasks on N connections, each as soon as its inputs exist.

The seeder's work is a graph (the ledger needs the staged purchases, an index rebuild needs
its table loaded, ...). Two workers (the machine has two cores) each take the first ready task
in priority order, so the long chain (the wallet) starts first and nobody idles while work is
ready.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg

from opslib.seed.session import Steps, connect

Action = Callable[[psycopg.Connection], object] | str


@dataclass
class Task:
    name: str
    action: Action
    after: tuple[str, ...] = ()
    done: bool = field(default=False, init=False)
    running: bool = field(default=False, init=False)


class TaskError(RuntimeError):
    pass


def run(url: str, tasks: Sequence[Task], steps: Steps, workers: int = 2) -> None:
    """Run every task once its `after` tasks are done; raise the first failure."""
    names = {t.name for t in tasks}
    for task in tasks:
        missing = set(task.after) - names
        if missing:
            raise ValueError(f"task {task.name!r} waits for unknown tasks {sorted(missing)}")
    cond = threading.Condition()
    failures: list[BaseException] = []

    def next_task() -> Task | None:
        with cond:
            while True:
                if failures or all(t.done or t.running for t in tasks):
                    return None
                finished = {t.name for t in tasks if t.done}
                for task in tasks:
                    if not task.done and not task.running and set(task.after) <= finished:
                        task.running = True
                        return task
                cond.wait()

    def worker() -> None:
        try:
            with connect(url) as conn:
                while (task := next_task()) is not None:
                    action = task.action
                    steps.run(conn, task.name, action if isinstance(action, str) else (lambda a=action: a(conn)))
                    with cond:
                        task.running, task.done = False, True
                        cond.notify_all()
        except BaseException as error:  # reported to the caller below
            with cond:
                failures.append(error)
                cond.notify_all()

    threads = [threading.Thread(target=worker, name=f"seed-{i}") for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise TaskError(str(failures[0])) from failures[0]
