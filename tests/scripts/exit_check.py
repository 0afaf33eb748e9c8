"""The end of every torchrun worker in this folder: the library's `end_process_group` (examples/train.py ends the
same way), then a record of the threads still running, which the tests read: no gloo worker may be left for the
interpreter's exit (docs/FAILURES.md, "Distributed runs: ending the process group")."""

from __future__ import annotations

import json
import os

from hf_finegrained.distributed import end_process_group

GLOO_THREADS = ("pt_gloo_runloop", "gloo_tcp_loop")  # the names torch gives gloo's worker and transport threads


def thread_names() -> list[str] | None:
    """The names of this process's threads (Linux); None where /proc does not list them."""
    folder = "/proc/self/task"
    if not os.path.isdir(folder):
        return None
    names = []
    for task in os.listdir(folder):
        try:
            with open(os.path.join(folder, task, "comm")) as handle:
                names.append(handle.read().strip())
        except OSError:  # a thread that ended in between
            pass
    return sorted(names)


def end_and_record(out: str) -> None:
    """Ends the process group on this rank, then writes the threads left to `<out>.exit-rank<R>.json`."""
    rank = int(os.environ.get("RANK", "0"))
    end_process_group()
    with open(f"{out}.exit-rank{rank}.json", "w") as handle:
        json.dump(thread_names(), handle)


def gloo_threads_left(out: str, ranks: int) -> dict[int, list[str]]:
    """{rank: gloo threads it still ran after `end_and_record`} for the ranks that had any (for the tests)."""
    left = {}
    for rank in range(ranks):
        with open(f"{out}.exit-rank{rank}.json") as handle:
            names = json.load(handle)
        gloo = [name for name in names or [] if name in GLOO_THREADS]
        if gloo:
            left[rank] = gloo
    return left
