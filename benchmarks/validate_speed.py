"""How fast ``depotctl validate`` is on the bundled sites. Prints figures; not a test.

    .venv/bin/python benchmarks/validate_speed.py [--runs 15] [--copies 100]

Figures:
- wall time of ``depotctl validate sites/large-depot.yaml`` as a subprocess, interpreter
  start included (median and p95), against the 0.5 s target;
- the same work in-process, split into read+parse, schema and semantic checks;
- ruamel.yaml's round-trip loader on the same file, for the ratio to our parser;
- one ``depotctl validate DIR`` over 100 copies of every bundled site, against 5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "sites"
LARGE = SITES / "large-depot.yaml"

LARGE_TARGET_S = 0.5
COPIES_TARGET_S = 5.0


def depotctl_command() -> list[str]:
    """The installed entry point beside this interpreter, else ``python -m depotctl``."""
    script = Path(sys.executable).with_name("depotctl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "depotctl"]


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(function: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def run_validate(paths: list[Path]) -> float:
    """Wall time of one ``depotctl validate`` subprocess; it must exit 0."""
    start = time.perf_counter()
    done = subprocess.run(
        [*depotctl_command(), "validate", "--format", "text", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"validate exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed


def in_process_split(path: Path, runs: int) -> dict[str, list[float]]:
    """read+parse, schema and semantic checks, each timed on its own, warm."""
    from depotctl.config import FileReport, Site, parse_documents, read_text, semantic_findings

    phases: dict[str, list[float]] = {"read+parse": [], "schema": [], "semantic": []}
    for _ in range(runs + 1):  # the first run warms imports and caches; dropped
        t0 = time.perf_counter()
        text = read_text(path, FileReport(str(path)))
        assert text is not None
        documents = list(parse_documents(text))
        t1 = time.perf_counter()
        site = Site.model_validate(documents[0].data)
        t2 = time.perf_counter()
        findings = semantic_findings(site, path)
        for finding in findings:  # positions, as validate resolves them
            documents[0].source.span(finding.path, at_key=finding.at_key)
        t3 = time.perf_counter()
        phases["read+parse"].append(t1 - t0)
        phases["schema"].append(t2 - t1)
        phases["semantic"].append(t3 - t2)
    return {name: samples[1:] for name, samples in phases.items()}


def ruamel_round_trip(path: Path, runs: int) -> list[float]:
    from ruamel.yaml import YAML

    text = path.read_text(encoding="utf-8")

    def load() -> object:
        return YAML(typ="rt").load(text)

    return timed(load, runs)


def c_composer(path: Path, runs: int) -> list[float]:
    from depotctl.config import parse_documents

    text = path.read_text(encoding="utf-8")
    return timed(lambda: list(parse_documents(text)), runs)


def copies_of_sites(directory: Path, copies: int, *, skip: tuple[str, ...] = ()) -> int:
    """``copies`` copies of the whole ``sites/`` tree (refs stay relative); file count."""
    for n in range(copies):
        shutil.copytree(SITES, directory / f"copy-{n:03d}", ignore=lambda *_: skip)
    return sum(1 for p in directory.rglob("*") if p.suffix in (".yaml", ".yml"))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per figure (>= 10)")
    parser.add_argument("--copies", type=int, default=100, help="copies of the bundled sites")
    args = parser.parse_args(argv)
    runs = max(10, args.runs)

    lines = LARGE.read_text(encoding="utf-8").count("\n")
    print(f"input: {LARGE.relative_to(ROOT)}, {lines} lines, {LARGE.stat().st_size / 1024:.0f} KiB")
    print(f"python {sys.version.split()[0]}, {runs} runs per figure\n")

    run_validate([LARGE])  # warm the OS file cache and .pyc files
    wall = [run_validate([LARGE]) for _ in range(runs)]
    median, p95 = statistics.median(wall), percentile(wall, 95)
    verdict = "ok" if p95 < LARGE_TARGET_S else "OVER TARGET"
    print("depotctl validate large-depot.yaml (subprocess, interpreter start included)")
    print(f"  median {ms(median)}   p95 {ms(p95)}   target < {LARGE_TARGET_S} s: {verdict}")

    startup = [_subprocess_time([sys.executable, "-c", "pass"]) for _ in range(runs)]
    print(f"  of which a bare interpreter start: median {ms(statistics.median(startup))}\n")

    split = in_process_split(LARGE, runs)
    print("in-process (warm), median per phase")
    for name, samples in split.items():
        print(f"  {name:<11} {ms(statistics.median(samples))}")
    total = sum(statistics.median(s) for s in split.values())
    print(f"  {'total':<11} {ms(total)}")
    print(f"  the rest of the subprocess's median (imports, CLI, output): {ms(median - total)}\n")

    rt = statistics.median(ruamel_round_trip(LARGE, runs))
    c = statistics.median(c_composer(LARGE, runs))
    print("YAML loading alone (in-process, warm, median)")
    print(f"  ruamel round-trip loader {ms(rt)}")
    print(f"  depotctl C composer      {ms(c)}   ratio {rt / c:.1f}x\n")

    with tempfile.TemporaryDirectory(prefix="depotctl-bench-") as tmp:
        directory = Path(tmp)
        files = copies_of_sites(directory, args.copies)
        elapsed = run_validate([directory])
    verdict = "ok" if elapsed < COPIES_TARGET_S else "OVER TARGET"
    print(f"depotctl validate DIR: {args.copies} copies of sites/ ({files} files), one subprocess")
    print(f"  {ms(elapsed)}   target < {COPIES_TARGET_S} s: {verdict}")

    with tempfile.TemporaryDirectory(prefix="depotctl-bench-") as tmp:
        directory = Path(tmp)
        files = copies_of_sites(directory, args.copies, skip=(LARGE.name,))
        elapsed = run_validate([directory])
    print(f"  for comparison, the same without {LARGE.name} ({files} files): {ms(elapsed)}")
    return 0


def _subprocess_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
