"""The benchmark's outputs: results/<date>-<size>.json (everything measured), a markdown table of
the headline numbers and their targets, and a PNG of convergence over time."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

# (workload, key, label, target as docs/performance.md states it)
HEADLINES = [
    ("W1_fan_out", "seconds", "W1 apply -> all trials Succeeded (s)", ""),
    ("W1_fan_out", "convergence_over_floor", "W1 convergence / Kubernetes floor", "<= 1.25"),
    ("W1_fan_out", "writes_per_experiment", "W1 operator writes per Experiment", "minimum: trials + 2"),
    ("W1_fan_out", "writes_over_floor", "W1 writes / floor's writes", ""),
    ("W1_fan_out", "trials_per_second", "W1 trials finished per second (the operator's saturation)", ""),
    ("W1_fan_out", "operator_cpu_seconds", "W1 operator CPU (s)", ""),
    ("W1_fan_out", "operator_peak_rss_mb", "W1 operator peak RSS (MB)", ""),
    ("W2_at_rest", "seconds_to_settle", "W2 objects settled after apply (s)", ""),
    ("W2_at_rest", "writes_per_object", "W2 writes per object to settle", ""),
    ("W2_at_rest", "writes_over_minimum", "W2 writes / the minimum (Dataset 3, other kinds 1)", "<= 1.05"),
    ("W2_at_rest", "idle_writes", "W2 idle writes", "0"),
    ("W2_at_rest", "idle_cpu_cores", "W2 idle CPU (cores)", "<= 0.01"),
    ("W2_at_rest", "idle_rss_over_bare_import", "W2 idle RSS / bare import (no objects)", "<= 1.1"),
    ("W2_at_rest", "rss_mb_per_1000_objects", "W2 RSS per 1,000 objects (MB)", "<= 4"),
    ("W3_restart", "writes", "W3 writes on restart", "0"),
    ("W3_restart", "seconds_to_idle", "W3 restart -> idle (s)", ""),
    ("W3_cold_start", "seconds_to_last_status", "W3 cold start -> last status (s)", ""),
    ("W3_cold_start", "over_floor", "W3 cold start / floor (a status patch per object, 16 at once)", ""),
    ("W3_cold_start", "peak_rss_mb_per_1000_objects", "W3 cold start peak RSS per 1,000 objects (MB)", "as W2"),
    ("W4_burst", "runs_started_per_experiment", "W4 runs started per Experiment (5 edits)", "1"),
    ("W4_burst", "writes_per_edit", "W4 writes per edit", ""),
    ("W5_latency", "p50_ms", "W5 Job done -> status, p50 (ms)", ""),
    ("W5_latency", "p99_ms", "W5 Job done -> status, p99 (ms)", "<= 100"),
    ("W5_latency", "trial_seconds", "W5 trial length for half W1's rate (s)", ""),
    ("W5_latency", "p50_over_floor", "W5 p50 / floor's p50 (a minimal controller)", ""),
    ("W5_latency", "p99_over_floor", "W5 p99 / floor's p99", ""),
]


def table(results: dict) -> str:
    rows = ["| measure | value | target |", "|---|---|---|"]
    for workload, key, label, target in HEADLINES:
        if workload in results and key in results[workload]:
            rows.append(f"| {label} | {results[workload][key]} | {target} |")
    return "\n".join(rows) + "\n"


def plot(curves: dict[str, list], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(9, 5))
    for name, points in curves.items():
        if points:
            top = max(v for _, v in points) or 1
            axes.plot([t for t, _ in points], [v / top for _, v in points], label=f"{name} (of {top:g})")
    axes.set_xlabel("seconds since apply")
    axes.set_ylabel("share done")
    axes.set_title("Convergence over time")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write(results: dict, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    curves = results.pop("curves", {})
    paths = [folder / f"{stem}.json", folder / f"{stem}.md", folder / f"{stem}.png"]
    paths[0].write_text(json.dumps({**results, "curves": curves}, indent=2) + "\n")
    paths[1].write_text(f"# Benchmark {stem}\n\n{results.get('machine', '')}\n\n{table(results)}")
    plot(curves, paths[2])
    return paths
