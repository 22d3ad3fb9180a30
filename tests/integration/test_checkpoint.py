"""The WAL is checkpointed by tocsind's checkpoint thread, not by the
writer's commits (issue 8, point 14): what a POST committed reaches the
database file within a moment, long before the WAL would have grown to
SQLite's automatic checkpoint (1,000 pages), so the writer thread never
stops to copy pages."""
import time

from hubutil import obj_indicator


def test_posted_objects_reach_the_database_file_without_waiting_for_the_writer(fresh_hub):
    db = fresh_hub.data / "tocsin.db"
    before = db.stat().st_size
    objs = [obj_indicator(f"[ipv4-addr:value = '198.51.100.{i}']", f"ckpt-{i}")
            for i in range(200)]
    fresh_hub.post_ok("open", "bank", objs)
    wal = fresh_hub.data / "tocsin.db-wal"
    assert wal.exists() and wal.stat().st_size < 1000 * 8192, "a small WAL"
    deadline = time.monotonic() + 5
    while db.stat().st_size <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.stat().st_size > before, "the committed pages were not checkpointed"
