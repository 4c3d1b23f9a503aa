"""Remote channel benchmarks (docs/performance.md): round trip, reconnect after an outage, dead-link detection.

    .venv/bin/python bench/bench_channel.py all                     # everything, about 3 minutes
    .venv/bin/python bench/bench_channel.py rtt --commands 1000     # command → ack, status propagation
    .venv/bin/python bench/bench_channel.py reconnect --reps 3      # relay down 2, 3, 4 s
    .venv/bin/python bench/bench_channel.py deadlink --activity-timeout 5 --cap 60           # real timers
    .venv/bin/python bench/bench_channel.py deadlink --activity-timeout 120 --scale 0.1 --cap 60

Every figure is printed next to its baseline from the same run. Everything is bounded: a lost answer
aborts after 5 s, a reconnect or dead link not seen within `--cap` is reported as ">= cap".
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys

from bench_channel_faults import run_deadlink, run_reconnect
from bench_channel_rtt import agent_main, run_rtt


def pct(samples: list[float], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cmd_rtt(args: argparse.Namespace) -> None:
    result = run_rtt(free_port(), args.commands, args.block, args.warmup)
    print(f"rtt: {args.commands} commands each, relay + echo agent in separate processes, loopback")
    print(f"{'':34}{'p50 ms':>9}{'p99 ms':>9}")
    rows = [
        ("command -> ack, ours", result["rtt"]["ours"]),
        ("command -> ack, raw WS + REST", result["rtt"]["raw"]),
        ("status propagation, ours", result["status"]["ours"]),
        ("status propagation, raw", result["status"]["raw"]),
        ("pusher:ping -> pong, raw WS", result["floor"]),
    ]
    for label, samples in rows:
        print(f"{label:34}{pct(samples, 50):9.2f}{pct(samples, 99):9.2f}")
    for what in ("rtt", "status"):
        ours, raw = result[what]["ours"], result[what]["raw"]
        added = pct(ours, 50) - pct(raw, 50)
        print(f"{what}: ours adds {added:+.2f} ms at p50 ({pct(ours, 50) / pct(raw, 50):.2f}x raw), "
              f"{pct(ours, 99) - pct(raw, 99):+.2f} ms at p99; target < 5 ms added at p50: "
              f"{'met' if added < 5 else 'NOT met'}")  # fmt: skip


def cmd_reconnect(args: argparse.Namespace) -> None:
    results = run_reconnect(args.down, args.reps)
    print(f"reconnect: relay.restart(down_seconds=d), {args.reps} reps each; seconds from relay back to subscribed")
    for down in args.down:
        got = [r for d, r in results if d == down]
        seen = [r for r in got if r is not None]
        worst = ">= 60" if len(seen) < len(got) else f"{max(seen):.2f}"
        print(f"  down {down:.0f} s: " + ", ".join("lost" if r is None else f"{r:.2f}" for r in got)
              + f"  (median {statistics.median(seen):.2f}, max {worst})")  # fmt: skip
    seen_all = [r for _, r in results if r is not None]
    ok = len(seen_all) == len(results) and max(seen_all) < 3
    print(f"  all: median {statistics.median(seen_all):.2f} s, max {max(seen_all):.2f} s; target < 3 s: "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip


def cmd_deadlink(args: argparse.Namespace) -> None:
    result = run_deadlink(args.activity_timeout, args.scale, args.cap)
    ours_bound = (args.activity_timeout + 30) * args.scale
    pysher_bound = 305 * args.scale
    print(f"deadlink: relay activity_timeout {args.activity_timeout} s, time scale {args.scale} (ours: every timer; "
          f"pysher: its hard-coded timers), cap {args.cap:.0f} s")  # fmt: skip

    def show(value: float | None) -> str:
        return f">= {args.cap:.0f}" if value is None else f"{value:.2f}"

    extra = f" + up to {100 * args.scale:.0f} s select + {10 * args.scale:.1f} s reconnect"
    for name, bound in (("ours", ours_bound), ("pysher", pysher_bound)):
        item = result[name]
        print(f"  {name:7} detected {show(item.detected):>8} s, resubscribed {show(item.recovered):>8} s "
              f"(expected bound {bound:.1f} s{'' if name == 'ours' else extra})")  # fmt: skip
    o, p = result["ours"].recovered, result["pysher"].recovered
    if o is not None:
        ratio = f"{(p if p is not None else args.cap) / o:.1f}x" + ("" if p is not None else " at least")
        print(f"  pysher takes {ratio} as long as ours to be usable again")
    if args.scale != 1.0 and o is not None:
        back = 1 / args.scale
        shown = f"{p * back:.0f} s" if p is not None else f">= {args.cap * back:.0f} s"
        print(f"  unscaled (x {back:g}): ours {o * back:.0f} s, pysher {shown}")
    print("  bounds at Pusher's default activity_timeout 120 s: ours 120 + 30 = 150 s; pysher ignores "
          "activity_timeout: 305 s + up to 100 s + 10 s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    rtt = sub.add_parser("rtt")
    rtt.add_argument("--commands", type=int, default=1000)
    rtt.add_argument("--block", type=int, default=250, help="commands per alternating block")
    rtt.add_argument("--warmup", type=int, default=50)
    rec = sub.add_parser("reconnect")
    rec.add_argument("--down", type=float, nargs="+", default=[2.0, 3.0, 4.0])
    rec.add_argument("--reps", type=int, default=3)
    dead = sub.add_parser("deadlink")
    dead.add_argument("--activity-timeout", type=int, default=5)
    dead.add_argument("--scale", type=float, default=1.0)
    dead.add_argument("--cap", type=float, default=60.0)
    sub.add_parser("all")
    agent = sub.add_parser("_agent")  # the echo agent subprocess of `rtt`
    agent.add_argument("port", type=int)
    agent.add_argument("mode", choices=["ours", "raw"])
    args = parser.parse_args(argv)
    if args.what == "_agent":
        agent_main(args.port, args.mode)
    elif args.what == "all":
        for step in (["rtt"], ["reconnect"], ["deadlink"], ["deadlink", "--activity-timeout", "120", "--scale", "0.1"]):
            main(step)
            print(flush=True)
    else:
        {"rtt": cmd_rtt, "reconnect": cmd_reconnect, "deadlink": cmd_deadlink}[args.what](args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
