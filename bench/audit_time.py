"""Project how long `overseer audit --full` takes on this machine, from runs of its big sections at small sizes.

    python bench/audit_time.py [--model smollm2] [--truthfulqa 32,48] [--toxicity 16] [--measure KEY ...]

THIS IS A PROJECTION, NOT A MEASUREMENT of the full audit. Each section that scales with its data (steer-truthfulqa:
questions; steer-toxicity: RealToxicityPrompts eval prompts, with the fit half scaled alike) is run as in
`--full`, through `run_audit(..., quick=False, scale=s)`, in a fresh output directory (nothing cached), at two
small sizes. A line through the two points, time = fixed + rate x units, gives the per-unit rate and the fixed cost
(model load, the fluency answers TruthfulQA caps at 16 per fold, fits); the projection is that line at the full size.
With one size, the fixed cost is the model's load time (timed here) and the rest is taken as per-unit.
Both wall-clock seconds and process CPU seconds are fitted: on a shared machine the wall clock includes waiting,
and CPU seconds / torch threads is what the same run would take with the cores to itself.

TruthfulQA sizes should be >= 32 questions (16 per fold), so its fluency answers are already at their cap and the
line is straight. Toxicity sizes should be multiples of 16 (the generation batch): on a CPU a part-filled batch of
a small model costs nearly as much as a full one, so smaller sizes would understate the per-prompt rate.
`--measure KEY` also runs other sections at full size and reports their measured time as is.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from overseer.report.audit import run_audit
from overseer.report.steering_sections import TRUTHFULQA_FULL, truthfulqa_size
from overseer.report.timing import duration, machine_info, machine_line
from overseer.report.toxicity_sections import toxicity_plan

RTP_PROMPTS = 623  # de-duplicated prompts packaged with overseer (load_rtp_prompts)


def scale_for(key: str, units: int) -> float:
    """The audit scale that gives `units` questions (TruthfulQA) or eval prompts (toxicity)."""
    full = TRUTHFULQA_FULL if key == "steer-truthfulqa" else toxicity_plan(RTP_PROMPTS)[1]
    return units / full


def units_at(key: str, scale: float) -> int:
    return truthfulqa_size(False, scale) if key == "steer-truthfulqa" else toxicity_plan(RTP_PROMPTS, scale)[1]


def run_once(model: str, key: str, scale: float) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, status) of one --full run of `key` at `scale`, in a fresh directory."""
    with tempfile.TemporaryDirectory(prefix=f"audit-time-{key}-") as tmp:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_audit(model=model, out_dir=Path(tmp) / "audit", only=[key], quick=False, scale=scale)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    (section,) = result.sections
    return wall, cpu, section.status if section.status == "ok" else f"{section.status}: {section.summary[:200]}"


def line(points: list[tuple[int, float]], fixed: float) -> tuple[float, float]:
    """(fixed, rate) of the straight line through two (units, seconds) points, or through one with `fixed` given."""
    if len(points) == 1:
        (n1, t1), = points
        return fixed, (t1 - fixed) / n1
    (n1, t1), (n2, t2) = points
    rate = (t2 - t1) / (n2 - n1)
    return t1 - rate * n1, rate


def load_seconds(model: str) -> tuple[float, float]:
    """(wall, CPU) seconds to load the model once (the fixed cost when only one size is run)."""
    from overseer.models import load_model

    wall, cpu = time.perf_counter(), time.process_time()
    load_model(model)
    return time.perf_counter() - wall, time.process_time() - cpu


def project(model: str, key: str, sizes: list[int], full: int, load: tuple[float, float]) -> dict:
    runs = []
    for units in sizes:
        wall, cpu, status = run_once(model, key, scale_for(key, units))
        actual = units_at(key, scale_for(key, units))
        print(f"  {key}: {actual} units, wall {wall:.1f} s, CPU {cpu:.1f} s ({status})", flush=True)
        if status != "ok":
            raise SystemExit(f"{key} did not run: {status}")
        runs.append((actual, wall, cpu))
    wall_fixed, wall_rate = line([(n, w) for n, w, _ in runs], load[0])
    cpu_fixed, cpu_rate = line([(n, c) for n, _, c in runs], load[1])
    if len(runs) > 1 and (wall_rate <= 0 or cpu_rate <= 0 or wall_fixed < 0 or cpu_fixed < 0):
        # The machine's load changed between the runs (contention inflates CPU time too): the line means nothing.
        # Fall back to the largest run with only the model load as fixed cost, which overstates the full time.
        n, wall, cpu = max(runs)
        print(f"  {key}: the runs disagree (load changed between them); projecting from the {n}-unit run alone, "
              "with the model load as the only fixed cost (an upper bound)", flush=True)
        wall_fixed, wall_rate = line([(n, wall)], load[0])
        cpu_fixed, cpu_rate = line([(n, cpu)], load[1])
    return {"key": key, "runs": runs, "full_units": full, "wall_fixed": wall_fixed, "wall_rate": wall_rate,
            "cpu_fixed": cpu_fixed, "cpu_rate": cpu_rate, "wall_full": wall_fixed + wall_rate * full,
            "cpu_full": cpu_fixed + cpu_rate * full}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--truthfulqa", default="32,48", help="two question counts (>= 32 each)")
    parser.add_argument("--toxicity", default="16", help="one or two eval-prompt counts (multiples of 16)")
    parser.add_argument("--measure", nargs="*", default=[], help="other sections to run at full size as is")
    args = parser.parse_args()
    machine = machine_info()
    threads = torch.get_num_threads()
    print(f"machine: {machine_line(machine)}")
    load = load_seconds(args.model)
    print(f"model load: {load[0]:.1f} s wall, {load[1]:.1f} s CPU")
    plans = [("steer-toxicity", args.toxicity, toxicity_plan(RTP_PROMPTS)[1], "eval prompt"),
             ("steer-truthfulqa", args.truthfulqa, TRUTHFULQA_FULL, "question")]
    projections = []
    for key, sizes, full, unit in plans:
        if sizes:
            fit = project(args.model, key, [int(s) for s in sizes.split(",")], full, load)
            projections.append((fit, unit))
    measured = []
    for key in args.measure:
        wall, cpu, status = run_once(args.model, key, 1.0)
        measured.append((key, wall, cpu, status))
    print("\nPROJECTION (not a measurement) of the --full sections, from the runs above:")
    for fit, unit in projections:
        print(f"  {fit['key']}: rate {fit['wall_rate']:.2f} s wall / {fit['cpu_rate']:.2f} s CPU per {unit}, fixed "
              f"{fit['wall_fixed']:.0f} s wall / {fit['cpu_fixed']:.0f} s CPU -> at {fit['full_units']} {unit}s: "
              f"{duration(fit['wall_full'])} wall as measured here, {duration(fit['cpu_full'])} CPU "
              f"(~{duration(fit['cpu_full'] / threads)} with {threads} threads to itself)")
    for key, wall, cpu, status in measured:
        print(f"  {key}: MEASURED at full size: {duration(wall)} wall, {duration(cpu)} CPU ({status})")
    total_wall = sum(f["wall_full"] for f, _ in projections) + sum(m[1] for m in measured)
    total_cpu = sum(f["cpu_full"] for f, _ in projections) + sum(m[2] for m in measured)
    print(f"  these sections together: {duration(total_wall)} wall as measured here, {duration(total_cpu)} CPU "
          f"(~{duration(total_cpu / threads)} with {threads} threads to itself)")


if __name__ == "__main__":
    main()
