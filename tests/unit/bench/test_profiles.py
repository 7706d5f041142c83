"""Profiles are summed by function across its lines, and compared by what moved."""

import gzip
from pathlib import Path

from bench.profiles import compare, read, summed, top

RAW = [
    "run (app.py:10);handle (core.py:5);copy (<string>:3) 6\n",
    "run (app.py:10);handle (core.py:7) 3\n",
    "run (app.py:11);send (kafka.py:40) 1\n",
]


def test_samples_add_up_by_function_not_by_line() -> None:
    profile = summed(RAW)
    assert profile.total == 10
    assert profile.inclusive["run (app.py)"] == 10  # lines 10 and 11: one function
    assert profile.inclusive["handle (core.py)"] == 9
    assert profile.own["handle (core.py)"] == 3
    assert profile.own["copy (<string>)"] == 6
    assert top(profile, 2)[3:] == [
        "   0.0        100.0  run (app.py)",
        "  30.0         90.0  handle (core.py)",
    ]


def test_a_gzipped_file_reads_as_the_plain_one(tmp_path: Path) -> None:
    plain, packed = tmp_path / "p.txt", tmp_path / "p.txt.gz"
    plain.write_text("".join(RAW))
    packed.write_bytes(gzip.compress("".join(RAW).encode()))
    assert read(plain) == read(packed)


def test_compare_puts_what_moved_most_first() -> None:
    after = summed(
        ["run (app.py:10);handle (core.py:7) 3\n", "run (app.py:11);send (kafka.py:40) 1\n"]
    )
    lines = compare(summed(RAW), after, 2)
    assert lines[3].endswith("copy (<string>)")  # 60 % -> 0 %
    assert lines[3].split()[:2] == ["60.0", "0.0"]
