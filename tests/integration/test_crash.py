"""Crash safety (issue 9, point 10), bounded for `make check`: tocsind
killed with SIGKILL while four clients POST; after each restart every
acknowledged object is there, every stored object version has its audit
entry, `tocsin audit verify` passes and SQLite's integrity check passes.
The full measurement (100 trials) is bench/crash/bench_crash.py; both use
crashtest.py."""
import crashtest
from conftest import TOCSIN, TOCSIND

TRIALS = 3


def test_sigkill_while_posting_loses_nothing_acknowledged_and_leaves_nothing_unaudited():
    tot, problems = crashtest.run(TOCSIN, TOCSIND, TRIALS, writers=4, envelope=300,
                                  kill_after=(0.4, 1.2), seed=9)
    assert tot["trials"] == TRIALS
    assert tot["acked"] > 0, "no POST was acknowledged before the kill: nothing was tested"
    assert not problems, "\n".join(problems)
    assert tot["lost"] == 0 and tot["unaudited"] == 0
