"""Failpoints fire only where and when they are armed; armed, they kill the process for real."""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass

from runtime.failpoints import ENV, armed


@dataclass(frozen=True)
class Rec:
    value: bytes | None


def test_a_failpoint_fires_only_at_its_own_name() -> None:
    assert armed("sessions.events-acknowledged", "sessions.events-acknowledged", [])
    assert not armed("sessions.events-acknowledged", "gateway.other", [Rec(b"x")])
    assert not armed("", "sessions.events-acknowledged", [])


def test_with_a_text_it_fires_only_for_records_that_contain_it() -> None:
    spec = "p:SessionEnded"
    assert armed(spec, "p", [Rec(None), Rec(b"..SessionEnded..")])
    assert not armed(spec, "p", [Rec(b"SessionStarted"), Rec(None)])
    assert not armed(spec, "p", [])


def test_an_armed_failpoint_kills_the_process_with_sigkill() -> None:
    code = (
        "from runtime.failpoints import failpoint\n"
        "failpoint('other')\n"
        "print('passed the other point', flush=True)\n"
        "failpoint('here')\n"
        "print('not reached')\n"
    )
    env = {**os.environ, ENV: "here"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout == b"passed the other point\n"
