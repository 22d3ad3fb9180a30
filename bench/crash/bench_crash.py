#!/usr/bin/env python3
"""bench/crash/bench_crash.py BUILD_DIR — crash safety, measured (issue 9,
point 10): BENCH_CRASH_TRIALS (100) trials of tocsind killed with SIGKILL
at a random moment while BENCH_CRASH_WRITERS (4) clients POST envelopes of
BENCH_CRASH_ENVELOPE (300) new indicators. After each restart: every
acknowledged object is there (TAXII GET), every stored version has its
audit entry, `tocsin audit verify` passes, SQLite's integrity check passes
on tocsin.db and registry.db. The trial itself is
tests/integration/crashtest.py, the same the integration test runs.

Prints one line per trial, then the figures in bench/run.sh's form.
Exit 0 when the trials ran (whatever they found), 2 on usage errors."""
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "tests" / "integration"))
import crashtest  # noqa: E402


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: bench/crash/bench_crash.py BUILD_DIR", file=sys.stderr)
        return 2
    build = pathlib.Path(sys.argv[1]).resolve()
    tocsin, tocsind = build / "cli" / "tocsin", build / "daemon" / "tocsind"
    for b in (tocsin, tocsind):
        if not os.access(b, os.X_OK):
            print(f"bench_crash: {b} is not built", file=sys.stderr)
            return 2
    trials = int(os.environ.get("BENCH_CRASH_TRIALS", "100"))
    writers = int(os.environ.get("BENCH_CRASH_WRITERS", "4"))
    envelope = int(os.environ.get("BENCH_CRASH_ENVELOPE", "300"))
    t0 = time.monotonic()

    def progress(k, fig, probs):
        print(f"trial {k}/{trials}: acknowledged {fig['acked']}, stored {fig['stored']}, "
              f"lost {fig['lost']}, unaudited {fig['unaudited']}, restart "
              f"{fig['restart_s'] * 1000:.0f} ms{'' if not probs else ', PROBLEMS: ' + '; '.join(probs)}",
              flush=True)

    tot, problems = crashtest.run(str(tocsin), str(tocsind), trials, writers=writers,
                                  envelope=envelope, kill_after=(0.2, 2.0), seed=10,
                                  progress=progress)
    failed = len({p.split(":", 1)[0] for p in problems})
    secs = time.monotonic() - t0
    print(f"crash trials: {tot['trials']} in {secs:.0f} s ({writers} clients, envelopes of "
          f"{envelope}, SIGKILL after 0.2-2 s)")
    print(f"crash test, acknowledged objects lost: {tot['lost']} objects (of "
          f"{tot['acked']:,} acknowledged in {tot['trials']} trials; target <= 0) "
          f"{'PASS' if tot['lost'] == 0 else 'BELOW'}")
    print(f"crash test, stored versions without an audit entry: {tot['unaudited']} versions "
          f"(of {tot['stored']:,} stored; target <= 0) "
          f"{'PASS' if tot['unaudited'] == 0 else 'BELOW'}")
    print(f"crash test, trials failing a check: {failed} trials (of {tot['trials']}: lost, "
          f"unaudited, audit verify, integrity_check; target <= 0) "
          f"{'PASS' if failed == 0 else 'BELOW'}")
    print(f"crash test, restart after SIGKILL: {tot['restart_s_max'] * 1000:.0f} ms at most")
    for p in problems[:20]:
        print("  " + p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
