"""tocsin source without a daemon: add checks everything tocsind will use
(name, format, options, URL rules of [sources], organisation, collection,
schedule, TLP, confidence) and says what is wrong; the auth header stays
out of the output and the audit log; list, status and remove; run asks the
daemon and --wait says when nobody pulls."""
import json

from conftest import run

AUTH = "Authorization: Bearer feed-token-0123456789abcdef"


def prepare(data, tmp_path, extra=""):
    run("org", "add", "abusefeeds", "-s", "cert", "-c", "ch", "--data", data, check_rc=0)
    conf = tmp_path / "tocsind.conf"
    conf.write_text("[sources]\nallow_http = true\nallow_private = true\n" + extra)
    return conf


def add(data, conf, name, url, *extra, rc=0):
    p = run("source", "add", name, url, *extra, "--config", conf, "--data", data)
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    return p


BASE = ("--format", "url-list", "--org", "abusefeeds", "--collection", "default")


def test_add_list_status_remove_and_audit(data, tmp_path):
    conf = prepare(data, tmp_path)
    af = tmp_path / "auth"
    af.write_text(AUTH + "\n")
    p = add(data, conf, "urlhaus", "http://127.0.0.1:9/urls.txt", *BASE, "--every", "15m",
            "--tlp", "GREEN", "--confidence", "70", "--auth-header-file", af)
    assert "urlhaus" in p.stdout and "every 900s" in p.stdout
    add(data, conf, "drop", "https://127.0.0.1:9/drop.txt", "--format", "ip-blocklist",
        "--org", "abusefeeds", "--collection", "default", "--comment", ";")
    out = run("source", "list", "--data", data, check_rc=0).stdout
    assert out.splitlines()[0].split()[:3] == ["NAME", "FORMAT", "ORGANISATION"]
    assert "urlhaus" in out and "drop" in out
    lst = json.loads(run("source", "list", "--json", "--data", data, check_rc=0).stdout)
    assert [s["name"] for s in lst] == ["drop", "urlhaus"]
    st = json.loads(run("source", "status", "urlhaus", "--json", "--data", data,
                        check_rc=0).stdout)
    assert st["every_s"] == 900 and st["tlp"] == "green" and st["confidence"] == 70
    assert st["org"] == "abusefeeds" and st["format"] == "url-list"
    assert "result" not in st and st["runs"] == 0 and st["auth_header"] == "(set)"
    assert json.loads(run("source", "status", "drop", "--json", "--data", data,
                          check_rc=0).stdout)["options"] == "comment=;\n"
    text = run("source", "status", "--data", data, check_rc=0).stdout
    assert "last run:      never" in text
    for args in (("list",), ("list", "--json"), ("status",), ("status", "urlhaus", "--json")):
        assert "feed-token" not in run("source", *args, "--data", data, check_rc=0).stdout
    run("source", "remove", "urlhaus", "--data", data, check_rc=0)
    p = run("source", "remove", "urlhaus", "--data", data)
    assert p.returncode != 0 and "no source 'urlhaus'" in p.stderr
    log = (data / "audit.log").read_text()
    assert "feed-token" not in log
    acts = [json.loads(l)["action"] for l in log.splitlines()]
    assert acts.count("source.add") == 2 and acts.count("source.remove") == 1


def test_add_refuses_what_tocsind_could_not_use(data, tmp_path):
    conf = prepare(data, tmp_path)
    url = "http://127.0.0.1:9/x"
    cases = [
        (("Bad Name", url, *BASE), "source name"),
        (("x", url, "--org", "abusefeeds", "--collection", "default"), "--format"),
        (("x", url, "--format", "rss", "--org", "abusefeeds", "--collection", "default"),
         "format 'rss'"),
        (("x", url, "--format", "plain", "--org", "nobody", "--collection", "default"),
         "no organisation 'nobody'"),
        (("x", url, *BASE[:4], "--collection", "nosuch"), "no collection 'nosuch'"),
        (("x", url, *BASE, "--every", "10s"), "--every"),
        (("x", url, *BASE, "--every", "soon"), "--every"),
        (("x", url, *BASE, "--confidence", "101"), "--confidence"),
        (("x", url, *BASE, "--tlp", "purple"), "--tlp"),
        (("x", url, *BASE, "--expiry", "never"), "--expiry"),
        (("x", url, *BASE, "--column", "value=2"), "csv format only"),
        (("x", url, "--format", "csv", "--org", "abusefeeds", "--collection", "default",
          "--column", "colour=2"), "value and type"),
        (("x", url, "--format", "csv", "--org", "abusefeeds", "--collection", "default",
          "--column", "value=0"), "out of range"),
        (("x", url, "--format", "taxii", "--org", "abusefeeds", "--collection", "default",
          "--comment", "#"), "list and csv formats"),
        (("x", "ftp://127.0.0.1/x", *BASE), "URL"),
        (("x", "http://169.254.169.254/latest", *BASE), "metadata"),
    ]
    for args, why in cases:
        p = add(data, conf, *args, rc=2)
        assert why in p.stderr, (args, p.stderr)
    # the defaults refuse plain HTTP and loopback
    strict = tmp_path / "strict.conf"
    strict.write_text("")
    p = run("source", "add", "x", url, *BASE, "--config", strict, "--data", data)
    assert p.returncode == 2 and "[sources] allow_http" in p.stderr, p.stderr
    p = run("source", "add", "x", "https://127.0.0.1:9/x", *BASE, "--config", strict,
            "--data", data)
    assert p.returncode == 2 and "[sources] allow_private" in p.stderr, p.stderr
    # a name is unique
    add(data, conf, "once", url, *BASE)
    p = add(data, conf, "once", url, *BASE, rc=2)
    assert "exists already" in p.stderr
    # an auth header must be one
    bad = tmp_path / "bad-auth"
    bad.write_text("no colon here\n")
    p = add(data, conf, "y", url, *BASE, "--auth-header-file", bad, rc=2)
    assert "Name: value" in p.stderr
    assert len(json.loads(run("source", "list", "--json", "--data", data,
                              check_rc=0).stdout)) == 1


def test_usage_errors(data, tmp_path):
    prepare(data, tmp_path)
    for args, why in [((), "subcommand"), (("frobnicate",), "unknown subcommand"),
                      (("list", "--format", "plain"), "belong to 'source add'"),
                      (("remove",), "one NAME"), (("run", "a", "b"), "one NAME"),
                      (("status", "a", "b"), "at most one NAME"),
                      (("remove", "x", "--json"), "--json belongs"),
                      (("list", "--wait", "3"), "--wait and --here belong"),
                      (("run", "x", "--here", "--wait", "3"), "--here pulls at once"),
                      (("run", "x", "--wait", "0"), "--wait")]:
        p = run("source", *args, "--data", data)
        assert p.returncode == 2 and why in p.stderr, (args, p.stderr)


def test_run_without_daemon(data, tmp_path):
    conf = prepare(data, tmp_path)
    add(data, conf, "urls", "http://127.0.0.1:9/u", *BASE)
    p = run("source", "run", "urls", "--data", data, check_rc=0)
    assert "asked tocsind" in p.stdout
    st = json.loads(run("source", "status", "urls", "--json", "--data", data, check_rc=0).stdout)
    assert st["run_requested"] is True
    p = run("source", "run", "urls", "--wait", "1", "--data", data)
    assert p.returncode == 2 and "no pull within 1 s" in p.stderr
    p = run("source", "run", "nosuch", "--data", data)
    assert p.returncode == 2 and "no source 'nosuch'" in p.stderr


def test_run_here_pulls_in_process(data, tmp_path):
    """run --here: the same pull as tocsind's, from a list served over HTTP
    here; refused while a tocsind holds the data directory."""
    import fcntl
    import http.server
    import threading

    feed = {"etag": '"v1"', "body": b"# feed\n185.220.101.23 ; listed\n45.9.148.0/24\n"}

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            if self.headers.get("If-None-Match") == feed["etag"]:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", feed["etag"])
            self.send_header("Content-Length", str(len(feed["body"])))
            self.end_headers()
            self.wfile.write(feed["body"])

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        conf = prepare(data, tmp_path)
        url = f"http://127.0.0.1:{srv.server_address[1]}/drop.txt"
        add(data, conf, "drop", url, "--format", "ip-blocklist", "--org", "abusefeeds",
            "--collection", "default", "--confidence", "90")
        p = run("source", "run", "drop", "--here", "--config", conf, "--data", data)
        assert p.returncode == 0, p.stderr
        assert "drop: ok, 2 entries (added 2, expired 0, rejected 0)" in p.stdout, p.stdout
        out = run("match", "--json", "185.220.101.23", "45.9.148.9", "--data", data).stdout
        m = [json.loads(l) for l in out.splitlines()]
        assert len(m) == 2 and all(r["hit"] for r in m), m
        assert m[0]["hits"][0]["producer"] == "abusefeeds", m
        # the second pull sends the ETag and writes nothing
        p = run("source", "run", "drop", "--here", "--config", conf, "--data", data, check_rc=0)
        assert "drop: unchanged" in p.stdout, p.stdout
        st = json.loads(run("source", "status", "drop", "--json", "--data", data,
                            check_rc=0).stdout)
        assert st["runs"] == 2 and st["entries"] == 2 and st["etag"] == '"v1"', st
        export = run("export", "--format", "plain", "--data", data, check_rc=0).stdout.split()
        assert sorted(export) == ["185.220.101.23", "45.9.148.0/24"], export
        # the network drops off the list: it expires, and its decision goes
        feed["etag"], feed["body"] = '"v2"', b"185.220.101.23\n"
        p = run("source", "run", "drop", "--here", "--config", conf, "--data", data, check_rc=0)
        assert "drop: ok, 1 entries (added 0, expired 1, rejected 0)" in p.stdout, p.stdout
        export = run("export", "--format", "plain", "--data", data, check_rc=0).stdout.split()
        assert export == ["185.220.101.23"], export
        # a tocsind serving the directory (its pid lock held) is asked instead
        with open(data / "tocsind.pid", "w") as f:
            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the lock is this process's; the CLI, another process, sees it held
            p = run("source", "run", "drop", "--here", "--config", conf, "--data", data)
            assert p.returncode == 2 and "asks it to pull" in p.stderr, p.stderr
    finally:
        srv.shutdown()
        srv.server_close()

