"""Where a profile's time goes: py-spy's collapsed stacks summed by function, and compared.

Record with ``py-spy record -f raw -o FILE -p PID`` (docs/benchmarks.md says which runs); the
files behind the figures are in docs/bench/ (gzipped). A caution measured on this machine: py-spy
catches a process at a system call's return more often than elsewhere, so socket writes and
``getpid`` (asyncio's loop lookup) weigh more in its samples than in the CPU they take.
"""

import argparse
import collections
import gzip
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Profile:
    """Samples by function: where they were (self) and what was on the stack (inclusive)."""

    total: int
    own: collections.Counter[str]
    inclusive: collections.Counter[str]

    def share(self, function: str) -> float:
        return self.inclusive[function] / self.total if self.total else 0.0


def read(path: Path) -> Profile:
    """A py-spy raw file (``frame;frame;... count`` per line), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as lines:
        return summed(lines)


def summed(lines: Iterable[str]) -> Profile:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        total += samples
        frames = [_function(frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for function in set(frames):
            inclusive[function] += samples
    return Profile(total, own, inclusive)


def _function(frame: str) -> str:
    """``name (file:line)`` without the line: a function's samples from all its lines."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rpartition(':')[0]})" if ":" in where else frame


def top(profile: Profile, limit: int) -> list[str]:
    lines = [f"{profile.total} samples", "", "self %  inclusive %  function"]
    for function, samples in profile.inclusive.most_common(limit):
        own = profile.own[function] / profile.total * 100
        lines.append(f"{own:6.1f}  {samples / profile.total * 100:11.1f}  {function}")
    return lines


def compare(before: Profile, after: Profile, limit: int) -> list[str]:
    """The functions that moved most, by inclusive share, before and after."""
    functions = set(before.inclusive) | set(after.inclusive)
    moved = sorted(functions, key=lambda f: -abs(after.share(f) - before.share(f)))
    lines = [
        f"samples: before {before.total}, after {after.total}",
        "",
        "before %  after %  function",
    ]
    for function in moved[:limit]:
        lines.append(
            f"{before.share(function) * 100:8.1f}  {after.share(function) * 100:7.1f}  {function}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, help="one profile, or before and after")
    parser.add_argument("--limit", type=int, default=30, help="functions to show")
    args = parser.parse_args(argv)
    if len(args.files) == 1:
        lines = top(read(args.files[0]), args.limit)
    elif len(args.files) == 2:
        lines = compare(read(args.files[0]), read(args.files[1]), args.limit)
    else:
        parser.error("one profile, or two to compare")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
