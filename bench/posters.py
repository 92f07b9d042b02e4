"""Benchmark: `troly poster all` for the full library, as PNG and as PDF: time per poster, peak RSS.

Runs the real command in a child process per format (wall time includes start-up and the
library load, divided by the number of posters) and reads that child's peak RSS from wait4.
Then times each poster in-process (layout + drawing + writing) for the median and the slowest.
Targets (issue 6): under 1 second per poster, peak RSS under 300 MB.

    python bench/posters.py
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.library import load_library  # noqa: E402
from bot.posters import write_all  # noqa: E402

CONTENT = ROOT / "content"


def run_cli(fmt: str, out: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of `troly poster all` in a child process."""
    env = {**os.environ, "CONTENT_DIR": str(CONTENT), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bot", "poster", "all", "--out", str(out), "--format", fmt]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        sys.exit(f"poster all --format {fmt} failed: {child.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, child.returncode  # ru_maxrss is in KiB on Linux


def main() -> None:
    library = load_library(CONTENT)
    count = len(library.guides) + 1
    print(f"Library: {len(library.guides)} guides + the counter poster = {count} posters")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("png", "pdf"):
            out = Path(folder) / fmt
            seconds, peak, _ = run_cli(fmt, out)
            size = sum(p.stat().st_size for p in out.iterdir()) / len(list(out.iterdir()))
            print(
                f"troly poster all --format {fmt}: {seconds:6.2f} s total, "
                f"{seconds / count * 1000:6.0f} ms per poster, peak RSS {peak:5.0f} MB, "
                f"average file {size / 1024:5.0f} KiB"
            )
        for fmt in ("png", "pdf"):
            times = []
            results = write_all(library, Path(folder) / f"in-process-{fmt}", fmt)
            while True:
                started = time.perf_counter()
                if next(results, None) is None:
                    break
                times.append(time.perf_counter() - started)
            print(
                f"in-process {fmt}: median {statistics.median(times) * 1000:5.0f} ms, "
                f"slowest {max(times) * 1000:5.0f} ms per poster (layout + draw + write)"
            )
    print("Targets: < 1000 ms per poster, peak RSS < 300 MB")


if __name__ == "__main__":
    main()
