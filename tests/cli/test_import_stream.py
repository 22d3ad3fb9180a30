"""`tocsin import` of large bundles: streamed object by object in bounded
memory through the pipelined write path, and a bundle that breaks off
part-way keeps everything before the break (issue 8, point 14).

Not timed: the speed is bench/run.sh's (make bench)."""
import os
import re
import resource
import subprocess

from conftest import BIN, run

# Peak RSS allowed for importing the 200,000-object bundle below (64 MB of
# JSON). Reading it as one document took 444 MB before streaming (and was
# then refused: more than 100,000 array items); streamed it takes ~200 MB
# in a debug build, of which the store's page cache (64 MB) and the match
# index of the 200,000 indicators grow with the store, not with the file.
RSS_BOUND_MB = 300


def write_bundle(path, n, cut_at=None, pretty=True):
    """A bundle of n indicators, one object a line (cut_at: the file ends
    in the middle of that object). Returns the path."""
    with open(path, "w") as f:
        f.write('{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",\n'
                '"objects": [\n')
        for i in range(n):
            a, b, c = (i >> 16) & 255, (i >> 8) & 255, i & 255
            o = ('{"type": "indicator", "spec_version": "2.1", '
                 f'"id": "indicator--00000000-0000-4000-8000-{i:012x}", '
                 '"created": "2024-01-01T00:00:00.000Z", '
                 '"modified": "2024-01-01T00:00:00.000Z", '
                 f'"name": "bad host {i}", "pattern": "[ipv4-addr:value = \'11.{a}.{b}.{c}\']", '
                 '"pattern_type": "stix", "valid_from": "2024-01-01T00:00:00.000Z"}')
            if i == cut_at:
                f.write(("," if i else "") + o[: len(o) // 2])
                return path
            f.write(("," if i else "") + o + "\n")
        f.write("]}\n")
    return path


def run_measured(*args):
    """Runs tocsin; returns (returncode, stdout, stderr, peak RSS in MB)."""
    e = dict(os.environ)
    e.pop("TOCSIN_DATA", None)
    with open(os.devnull, "rb") as null:
        p = subprocess.Popen([BIN, *map(str, args)], stdin=null, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=e, text=True)
        out, err = p.communicate(timeout=600)
    # RUSAGE_CHILDREN's ru_maxrss is the largest child's so far; the
    # test's other children (init, the Python generator runs in-process)
    # are small.
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return p.returncode, out, err, rss_kb / 1024


def test_200k_object_bundle_streams_in_bounded_memory(data, tmp_path):
    path = write_bundle(tmp_path / "big.json", 200_000)
    rc, out, err, rss = run_measured("import", "--data", data, path)
    assert rc == 0, (out, err)
    assert "imported 200000, duplicates 0, rejected 0" in out
    assert rss < RSS_BOUND_MB, f"peak RSS {rss:.0f} MB, bound {RSS_BOUND_MB} MB"
    # the objects are stored as read and can be found
    m = run("match", "--data", data, "11.1.226.64")
    assert m.returncode == 0, (m.stdout, m.stderr)
    assert "indicator--00000000-0000-4000-8000-00000001e240" in m.stdout


def test_bundle_cut_part_way_keeps_what_came_before(data, tmp_path):
    cut = write_bundle(tmp_path / "cut.json", 30_000, cut_at=12_345)
    p = run("import", "--data", data, cut)
    assert p.returncode == 1, (p.stdout, p.stderr)
    # the place: file, line (two lines of header, one object a line), element
    assert re.search(r"cut\.json: line 12348 column \d+: objects\[12345\]: the input ends "
                     r"inside this element", p.stderr), p.stderr
    assert "imported 12345, duplicates 0, rejected 1" in p.stdout
    assert "stopped part-way" in p.stdout
    # everything before the break is stored: the whole file now adds the rest
    full = write_bundle(tmp_path / "full.json", 30_000)
    p = run("import", "--data", data, full)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "imported 17655, duplicates 12345, rejected 0" in p.stdout


def test_stdin_envelope_streams_and_rejects_with_place(data, tmp_path):
    objs = [
        '{"type":"indicator","spec_version":"2.1",'
        f'"id":"indicator--00000000-0000-4000-8000-{i:012x}",'
        '"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",'
        f'"pattern":"[domain-name:value = \'h{i}.example.com\']","pattern_type":"stix",'
        '"valid_from":"2024-01-01T00:00:00.000Z"}'
        for i in range(3)
    ]
    objs[1] = objs[1].replace('"pattern_type":"stix",', "")  # invalid: no pattern_type
    body = '{"more": false, "objects": [' + ",".join(objs) + "]}"
    p = run("import", "--data", data, "-", input=body)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "imported 2, duplicates 0, rejected 1" in p.stdout
    assert "stdin: objects[1]" in p.stderr
    assert "pattern_type" in p.stderr
