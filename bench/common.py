"""What the benchmark scripts share: where things are, which machine and library state a result
was measured on, memory and CPU measurement of a process tree, and how results are written
(JSON files, text and Markdown tables).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
THROUGHPUT = OUT / "throughput"   # the throughput benchmark's corpora, runs and history
DEFAULT_CORPORA = Path(os.environ.get("DEDUPE_CORPORA", REPO.parent / "shared" / "corpora"))
QUIET_CORES = 0.3


# ----------------------------------------------------------------------------------------------
# What was measured
# ----------------------------------------------------------------------------------------------
def library_fingerprint() -> dict[str, Any]:
    """Which state of dedupe/ was measured (it may be edited while a benchmark runs): a digest
    of its sources and data files, their count and the newest modification time."""
    digest = hashlib.sha256()
    newest = 0.0
    files = sorted(p for p in (REPO / "dedupe").rglob("*") if p.is_file() and p.suffix in (".py", ".txt"))
    for path in files:
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {"sha256": digest.hexdigest()[:16], "files": len(files),
            "newest_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest))}


def machine_info() -> dict[str, Any]:
    """CPUs, memory, Python and the versions of the libraries the benchmarks load."""
    mem_kb = _proc_field("/proc/meminfo", "MemTotal")
    versions = {}
    for dist in ("numpy", "numba", "datasketch", "pyarrow", "xxhash"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"nproc": os.cpu_count(), "nproc_usable": len(os.sched_getaffinity(0)),
            "cpu_model": _proc_field("/proc/cpuinfo", "model name") or "unknown",
            "mem_total_gb": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions}


def _proc_field(path: str, name: str) -> str | None:
    """The value of the first `name: value` line of a /proc file, or None."""
    try:
        for line in Path(path).read_text().splitlines():
            field, _, value = line.partition(":")
            if field.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------------------------
# Memory and CPU
# ----------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak RSS of this process (VmHWM). Not ru_maxrss: Linux carries that across fork+exec,
    so a child would report at least its parent's RSS at the time it was started."""
    hwm = _proc_field("/proc/self/status", "VmHWM")
    if hwm:
        return int(hwm.split()[0]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def busy_cpu_seconds() -> float:
    """CPU time all processes on the machine have used (from /proc/stat), in seconds."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def pss_kb(pid: int) -> int:
    """Proportional set size of a process (its RSS where /proc has no smaps_rollup)."""
    pss = _proc_field(f"/proc/{pid}/smaps_rollup", "Pss")
    if pss:
        return int(pss.split()[0])
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


class TreeSampler(threading.Thread):
    """Samples the memory of a process and all its descendants (worker pools) every `interval`
    seconds: the peak of the summed PSS (proportional set size: shared pages split between the
    processes sharing them, so the sum is not inflated by fork copy-on-write sharing)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_mb = 0.0
        self.max_procs = 0
        self._cpu: dict[int, float] = {}        # pid -> last seen utime + stime (s)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop_event = threading.Event()

    @property
    def cpu_seconds(self) -> float:
        """CPU time of every process seen in the tree (sampled: misses a worker's last interval)."""
        return sum(self._cpu.values())

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = self._tree()
            total = sum(pss_kb(p) for p in pids) / 1024
            self.peak_mb = max(self.peak_mb, total)
            self.max_procs = max(self.max_procs, len(pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _tree(self) -> list[int]:
        stats = process_tree(self.pid)
        for p, fields in stats.items():
            self._cpu[p] = max(self._cpu.get(p, 0.0), (int(fields[11]) + int(fields[12])) / self._tick)
        return list(stats)


def process_tree(pid: int) -> dict[int, list[str]]:
    """The /proc/PID/stat fields (after the command name) of `pid` and all its descendants,
    found through /proc/PID/task/TID/children (no scan of /proc)."""
    out: dict[int, list[str]] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            out[p] = stat[stat.rfind(")") + 2:].split()
            for task in os.listdir(f"/proc/{p}/task"):
                todo.extend(int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return out


class CpuTimeline(threading.Thread):
    """Samples the CPU time (user + system) of a process and its descendants every `interval`
    seconds, as (seconds since `t0`, CPU seconds so far): CPU used between two moments, and so
    the cores a stage kept busy (`process_tree`: no scan of /proc, so sampling often costs
    little)."""

    def __init__(self, pid: int, t0: float, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.t0, self.interval = pid, t0, interval
        self.samples: list[tuple[float, float]] = []
        self._cpu: dict[int, float] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._sample()
            self._stop_event.wait(self.interval)
        self._sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _sample(self) -> None:
        for pid, fields in process_tree(self.pid).items():
            self._cpu[pid] = max(self._cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / self._tick)
        self.samples.append((time.perf_counter() - self.t0, sum(self._cpu.values())))

    def cpu_between(self, start: float, end: float) -> float:
        """CPU seconds the tree used from `start` to `end` (seconds since t0), interpolated."""
        return self._at(end) - self._at(start)

    def _at(self, t: float) -> float:
        prev = (0.0, 0.0)
        for when, cpu in self.samples:
            if when >= t:
                span = when - prev[0]
                return prev[1] + (cpu - prev[1]) * ((t - prev[0]) / span if span > 0 else 1.0)
            prev = (when, cpu)
        return prev[1]


def wait_for_quiet(max_wait: float, log=print) -> dict[str, float]:
    """Wait (up to max_wait s) until other processes use less than QUIET_CORES cores."""
    t0 = time.perf_counter()
    while True:
        b0 = busy_cpu_seconds()
        time.sleep(2.0)
        others = (busy_cpu_seconds() - b0) / 2.0
        waited = time.perf_counter() - t0
        if others < QUIET_CORES or waited >= max_wait:
            if waited > 2.5:
                log(f"  waited {waited:.0f} s for a quiet machine (others now use {others:.1f} cores)")
            return {"waited_seconds": waited, "others_cores_at_start": others}


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
def shown(path: Path) -> Path:
    """`path` relative to the repository when it is inside it (for messages)."""
    try:
        return Path(path).resolve().relative_to(REPO)
    except ValueError:
        return Path(path)


def write_json(path: Path, data: dict[str, Any]) -> str:
    """Write `data`, stamped with the time it finished, to `path`; returns the text written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"finished": time.strftime("%Y-%m-%d %H:%M:%S"), **data}, indent=2,
                      ensure_ascii=False, default=str) + "\n"
    path.write_text(text, encoding="utf-8")
    return text


def fmt(x: float | None, digits: int = 0) -> str:
    """A number with thousands separators, or n/a."""
    return "n/a" if x is None else f"{x:,.{digits}f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A padded Markdown table; the first `left` columns align left, the others right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i < left else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"

    sep = "|" + "|".join("-" * (w + 1) + ("-" if i < left else ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """A plain table in aligned columns under a dashed rule; the first `left` columns align
    left, the others right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    form = "  ".join(f"{{:<{w}}}" if i < left else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join([form.format(*headers), form.format(*("-" * w for w in widths))]
                     + [form.format(*r) for r in rows])
