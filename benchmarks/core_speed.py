"""Detection core speed: 24 hours of 30 fps per-side signals through the offline core.

Target (issue #4): under 5 s and under 1 GB on the 2-core reference machine.
Prints wall time, frames per second and the peak memory of this process.

    python benchmarks/core_speed.py [--hours 24]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from spasm_cv.events.activity import CORE_COLUMNS
from spasm_cv.events.detect import detect
from spasm_cv.events.simulate import SimEpisode, simulate_signals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args()
    seconds = args.hours * 3600
    episodes = tuple(
        SimEpisode(60.0 * i + 10, "right" if i % 3 else "left", "twitch", 0.7)
        for i in range(int(seconds // 60))
    )
    t0 = time.perf_counter()
    signals, _ = simulate_signals(seconds, args.fps, episodes=episodes, blinks_per_min=15, seed=1)
    t_sim = time.perf_counter() - t0
    # the core reads only these columns; the others are for people and reports
    signals.columns = {c: signals.columns[c] for c in CORE_COLUMNS}
    t0 = time.perf_counter()
    result = detect(signals)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    detect(signals)
    core_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(signals)
    spasms = sum(e.trial_type == "spasm" for e in result.events)
    print(f"frames                {n:,} ({args.hours:g} h at {args.fps:g} fps)")
    print(f"simulating them took  {t_sim:.1f} s")
    print(f"offline core          {elapsed:.2f} s  ({n / elapsed / 1e6:.2f} M frames/s)")
    print(f"core memory           {core_peak:.0f} MB allocated at peak by detect()")
    print(f"peak memory (process) {peak:.0f} MB (includes simulating the signals)")
    print(f"events                {len(result.events):,} ({spasms:,} spasm)")
    print(f"simulated episodes    {len(episodes):,}")


if __name__ == "__main__":
    main()
