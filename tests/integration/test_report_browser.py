"""The public report form as a person uses it: headless Chromium (Debian
package chromium) driven by playwright-core (npm, installed by
tests/browser/install.sh), by keyboard only, with JavaScript enabled and
disabled. Skipped, saying why, only when Chromium cannot start."""
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import Daemon, tocsin

BROWSER = pathlib.Path(__file__).resolve().parent.parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium: scripts/deps.sh)")
    if not shutil.which("node"):
        pytest.skip("node is not installed (Debian package nodejs: scripts/deps.sh)")
    subprocess.run([str(BROWSER / "install.sh")], check=True, timeout=300)
    d = tmp_path_factory.mktemp("browser") / "var"
    tocsin("init", "--data", d)
    daemon = Daemon(d)
    yield f"http://{daemon.addr}", d
    assert daemon.stop() == 0


def drive(base, js, value):
    p = subprocess.run(["node", str(BROWSER / "report_form.mjs"), base, js, value],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "CHROMIUM": CHROMIUM})
    if p.returncode == 3:
        pytest.skip("chromium cannot start here: " + json.loads(p.stdout)["cannot_start"])
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert "error" not in out, out["error"]
    return out


@pytest.mark.parametrize("js", ["on", "off"])
def test_report_form_in_chromium(site, js):
    base, data = site
    number = "+7 999 444-00-1" + ("1" if js == "on" else "2")
    out = drive(base, js, number)
    assert out["form_status"] == 200 and out["lang"] == "ru"
    assert out["css_applied"] in ("700", "bold")           # the style sheet loaded under the CSP
    assert out["csp_violations"] == []
    assert out["reached_radios"] and out["kind_checked"] == "phone"
    assert out["tab_order"] == ["value", "text", "contact", "button"]  # the honeypot is skipped
    # the server's error, in Russian, tied to the field
    assert out["error_summary"] and "не подходит" in out["error_summary"]
    assert out["value_invalid"] == "true"
    assert "value-error" in out["value_describedby"]
    assert out["value_error"] and "Ошибка" in out["value_error"]
    assert out["text_kept"].startswith("Звонили") and out["kind_kept"] == "phone"
    assert out["submit_focused"] == "button"
    assert out["thanks"].startswith("Спасибо") and len(out["receipt"]) == 26
    assert out["status_url"].startswith("/report/status/" + out["receipt"])
    assert out["state"] == "open" and out["state_text"] == "На проверке"
    assert out["switched_lang"] == "en" and out["switched_state_text"] == "Under review"
    listed = tocsin("report", "list", "--data", data).stdout
    assert "+7999444001" + ("1" if js == "on" else "2") in listed
    shown = tocsin("report", "show", "1", "--data", data).stdout
    assert "citizen-browser@example.org" not in shown
