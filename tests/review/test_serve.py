"""review --serve in a real browser: decisions by keyboard, saved to review.tsv, counted."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from conftest import package_env

import spasm_cv
from spasm_cv._server import new_token, start
from spasm_cv.results.review import read_review
from spasm_cv.review.render import MANIFEST, review_episodes
from spasm_cv.review.server import ReviewApp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clips(sample_result, tmp_path_factory):
    """Clips of the analysed sample's episodes and three near misses (cut once)."""
    out = tmp_path_factory.mktemp("serve") / "clips"
    review_episodes(sample_result, out, near=3)
    assert (out / MANIFEST).is_file()
    return out


@pytest.fixture
def served(sample_result, clips, tmp_path):
    """A copy of the analysed sample's result folder and a review server running over it."""
    result = tmp_path / "sample.spasm-cv"
    shutil.copytree(sample_result, result)
    token = new_token()
    running = start(ReviewApp(result, clips, reviewer="tester").app(token), token=token)
    try:
        yield result, running.url, token
    finally:
        running.stop()


def request(url: str, method: str = "GET", body: dict | None = None,
            headers: dict | None = None) -> tuple[int, str]:  # fmt: skip
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), data, hdrs)
    r = conn.getresponse()
    return r.status, r.read().decode()


def test_review_five_episodes_by_keyboard_add_one_reload(served, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    result, url, _ = served
    browser.get(url)
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: "reviewed" in d.find_element(By.ID, "status").text)
    body = browser.find_element(By.TAG_NAME, "body")
    keys = ["a", "a", "r", "u", "a"]  # five episodes, each key moves to the next clip
    for i, key in enumerate(keys, 1):
        body.send_keys(key)
        wait.until(lambda d, i=i: f"{i} of 8 detected" in d.find_element(By.ID, "status").text)
    body.send_keys("n")  # a missed episode at the current clip's time: a form, onset filled
    onset = wait.until(lambda d: d.switch_to.active_element)
    assert onset.get_attribute("name") == "add_onset" and float(onset.get_attribute("value")) > 0
    form = onset.find_element(By.XPATH, "ancestor::form")
    Select(form.find_element(By.NAME, "add_side")).select_by_value("left")
    length = form.find_element(By.NAME, "add_duration")
    length.clear()
    length.send_keys("0.4", Keys.ENTER)  # Enter saves
    wait.until(lambda d: "1 added" in d.find_element(By.ID, "status").text)
    assert not form.is_displayed()

    browser.refresh()  # the decisions are on disk, not in the page
    wait.until(lambda d: "5 of 8 detected" in d.find_element(By.ID, "status").text)
    shown = [
        e.get_attribute("data-decision")
        for e in browser.find_elements(By.CSS_SELECTOR, "[data-role=episode] .decision")
    ]
    assert shown[:5] == ["accepted", "accepted", "rejected", "unsure", "accepted"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#added li")) == 1
    errors = [m["message"] for m in browser.get_log("browser") if m["level"] == "SEVERE"]
    assert not errors  # e.g. a script or style the policy refused, a request refused

    decisions = read_review(result)
    assert [d.decision for d in decisions] == ["accepted", "accepted", "rejected", "unsure",
                                               "accepted", "added"]  # fmt: skip
    assert (decisions[-1].side, decisions[-1].duration) == ("left", 0.4)
    assert {d.reviewer for d in decisions} == {"tester"}
    loaded = spasm_cv.load(result)
    assert sorted(loaded.events["reviewed"].value_counts().to_dict().items()) == sorted({
        "accepted": 3, "rejected": 1, "unsure": 1, "not reviewed": 3,
        "n/a": int((loaded.events["reviewed"] == "n/a").sum()),
    }.items())  # fmt: skip
    # the confirmed count in the report equals the hand count: 3 accepted + 1 added
    out = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "spasm_cv", "report", str(result), "--reviewed",
                          "--out", str(out)], capture_output=True, text=True,
                         env=package_env())  # fmt: skip
    assert run.returncode == 0, run.stderr
    page = out.read_text()
    assert 'data-key="episodes.total.count" data-scale="1">4<' in page
    assert "confirmed by review: 3 of 8 detected, 1 added" in page


def test_requests_without_token_from_elsewhere_or_cross_site_are_refused(served):
    result, url, token = served
    base = url.split("?")[0]
    assert request(url)[0] == 200
    assert request(base)[0] == 403  # no token
    assert request(base + "?token=" + "x" * len(token))[0] == 403
    assert request(url, headers={"Host": "attacker.example"})[0] == 400  # DNS rebinding
    decide = base + "api/decide"
    one = {"event": "e2", "decision": "rejected"}
    assert request(decide + "?token=" + token, "POST", one)[0] == 403  # no token header
    status, _ = request(decide, "POST", one,
                        {"X-Token": token, "Origin": "http://attacker.example"})  # fmt: skip
    assert status == 403  # a cross-site POST
    assert request(decide, "GET", None, {"X-Token": token})[0] == 405
    assert read_review(result) == []  # nothing was written
    status, text = request(decide, "POST", one, {"X-Token": token,
                                                 "Origin": base.rstrip("/")})  # fmt: skip
    assert status == 200 and json.loads(text)["saved"]["decision"] == "rejected"
    status, _ = request(base + "clips/..%2f..%2fsummary.json", headers={"X-Token": token})
    assert status == 404  # only the listed clips are served
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"/?{parts.query}")
    r = conn.getresponse()
    policy = r.getheader("Content-Security-Policy")
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert urlsplit(url).hostname == "127.0.0.1"
