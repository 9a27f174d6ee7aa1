"""Throughput of Pythia + the LEP analyses against raw ``pythia.next()``, one core, same run.

Rows (CPU time of this process, medians over interleaved repeats; the machine's load is
recorded): raw ``next()`` in a plain loop with the settings ``PythiaEE`` uses; generation
only (``nextBatch`` into an analysis that fills nothing); Pythia + each analysis with all of
its histograms booked from the shipped reference file. The target of the real-data issue is
Pythia + ALEPH >= 0.85x raw ``next()``.

    python -m experiments.bench_analysis_throughput --events 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from advopt.histograms.analysis import Booking, get_analysis
from advopt.histograms.config import shipped_file
from advopt.histograms.reference import HistogramReference
from experiments._common import write_result
from simulators.pythia import PythiaEE, _generator

ANALYSES = ("ALEPH_1996_S3486095", "DELPHI_1996_S3430090", "PDG_HADRON_MULTIPLICITIES")


class Nothing:
    name = "NOTHING"
    histograms = {"/NOTHING/d01-x01-y01": "mean"}

    def fill(self, events, booking, fills):
        pass


def booked(name: str):
    analysis = get_analysis(name)
    reference = HistogramReference.load(shipped_file(f"{name}.yoda"), include=list(analysis.histograms))
    return analysis, Booking.from_bins(reference.bins())


def rate(function, n: int) -> float:
    started = time.process_time()
    function(n)
    return n / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    simulator = PythiaEE(sqrt_s=91.2)
    generator = _generator(simulator.sqrt_s, simulator.settings)
    generator.configure({})
    nothing = Booking.from_bins({"/NOTHING/d01-x01-y01": ([0.0], [1.0])})
    rows = {"raw_next": lambda n: [generator.pythia.next() for _ in range(n)],
            "generation_only": lambda n: simulator.fill_histograms({}, n, 1, [Nothing()], nothing)}
    for name in ANALYSES:
        analysis, booking = booked(name)
        rows[name] = (lambda a, b: lambda n: simulator.fill_histograms({}, n, 2, [a], b))(analysis, booking)
    for function in rows.values():
        function(1000)  # warm up: compile the kernels, fill the caches
    load_before = os.getloadavg()
    rates: dict[str, list[float]] = {k: [] for k in rows}
    for _ in range(args.repeats):
        for key, function in rows.items():
            rates[key].append(rate(function, args.events))
    medians = {k: statistics.median(v) for k, v in rates.items()}
    figures = {"events_per_repeat": args.events, "repeats": args.repeats, "load_before": load_before,
               "load_after": os.getloadavg(), "events_per_cpu_second": rates, "median": medians,
               "ratio_to_raw_next": {k: medians[k] / medians["raw_next"] for k in rows},
               "ratio_to_generation_only": {k: medians[k] / medians["generation_only"] for k in rows}}
    for key in rows:
        print(f"{key:28s} {medians[key]:8.0f} events/s  {figures['ratio_to_raw_next'][key]:.3f} of raw next()")
    print(write_result("analysis_throughput", figures))


if __name__ == "__main__":
    main()
