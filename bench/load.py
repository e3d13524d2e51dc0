"""Load: signed-in reviewers, auditors and operators against gunicorn, no pause between requests.

Gunicorn is started as the reliability campaign starts it (bench/serving.py: the web login
role, production settings) with 4 workers. Each simulated person signs in with a password, then
requests pages from their role's mix until the time is up; reviewers now and then approve
a pool draft (confirmation page, then "Yes, approve" with its token), as people would.
60% of the people are in the largest tenant, 40% in the median one.
"""

import os
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench import people
from bench.reliability import environment
from bench.serving import Browser, start_gunicorn, wait_until_serving

PORT = 8766
WORKERS = 4
THREADS = 1
DECISION_SHARE = 0.03
DRAFT_LINK = re.compile(rb'href="/admin/storage/draft/([0-9a-f-]{36})/change/"')
RUN_LINK = re.compile(rb'href="(/admin/storage/auditevent/run/\?run_id=[^"]+)"')
HIDDEN = re.compile(rb'<input type="hidden" name="(_selected_action|_seen)" value="([^"]*)">')
# Each role's pages and how often they open them (relative weights); {run} and {draft}
# are links the person found on an earlier page.
MIX = {
    "reviewer": {
        "/admin/storage/draft/": 4,
        "/admin/storage/draft/?awaiting=me": 3,
        "/admin/storage/draft/{draft}/change/": 4,
        "/admin/": 1,
        "/admin/storage/draftreview/": 1,
    },
    "auditor": {
        "/admin/storage/auditevent/": 2,
        "/admin/storage/auditevent/?event_type__exact=refusal": 2,
        "/admin/storage/auditevent/?event_type__exact=run_failure": 1,
        "/admin/storage/auditevent/?tool_id=payments.submit": 1,
        "{run}": 2,
        "/admin/storage/execution/": 2,
        "/admin/storage/execution/?status__exact=failed": 1,
        "/admin/storage/draft/?status=all": 1,
        "/admin/storage/draftreview/": 1,
        "/admin/": 1,
    },
    "operator": {
        "/admin/storage/settlementintent/": 3,
        "/admin/storage/settlementintent/?settlement_status__exact=processing": 1,
        "/admin/": 1,
    },
}
ROLES = ["reviewer"] * 2 + ["auditor"] * 2 + ["operator"]  # 40% / 40% / 20%


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[tuple[str, int, float]] = field(default_factory=list)  # path, status, s

    def add(self, path: str, status: int, seconds: float) -> None:
        with self.lock:
            self.requests.append((path, status, seconds))


def person(*, number: int) -> tuple[people.MeasuredTenant, str]:
    largest, median = people.measured_tenants()
    tenant = largest if number % 5 < 3 else median
    return tenant, ROLES[number % len(ROLES)]


def sign_in(*, number: int) -> Browser | None:
    """A browser signed in as person `number` (with the password: a real session)."""
    tenant, role = person(number=number)
    browser = Browser(port=PORT)
    return browser if browser.sign_in(tenant.username(role), people.PASSWORD) else None


def simulate(
    *, number: int, browser: Browser, start: threading.Barrier, until: list[float], results: Results
) -> None:
    """Wait until everyone is signed in, then request pages until the time is up."""
    tenant, role = person(number=number)
    start.wait()
    rng = random.Random(number)
    pages, weights = zip(*MIX[role].items(), strict=True)
    found = {"draft": [], "run": []}
    while time.monotonic() < until[0]:
        if role == "reviewer" and rng.random() < DECISION_SHARE:
            decide(browser=browser, tenant=tenant, results=results)
            continue
        path = rng.choices(pages, weights)[0]
        kind = "draft" if "{draft}" in path else "run" if "{run}" in path else ""
        if kind and not found[kind]:
            path = pages[0]
        elif kind:
            link = rng.choice(found[kind]).decode().replace("&amp;", "&")
            path = path.format(draft=link, run=link)
        status, body, took = browser.request("GET", path)
        results.add(path.split("?")[0] if kind else path, status, took)
        found["draft"] = DRAFT_LINK.findall(body)[:20] or found["draft"]
        found["run"] = RUN_LINK.findall(body)[:20] or found["run"]


def decide(*, browser: Browser, tenant: people.MeasuredTenant, results: Results) -> None:
    """Approve the next pool draft: the confirmation page, then the decision."""
    draft_id = next_pool_draft(tenant_id=tenant.tenant_id)
    url = "/admin/storage/draft/?status=all"
    form = {"action": "approve_selected", "_selected_action": draft_id, "index": "0"}
    status, body, took = browser.request("POST", url, form)
    results.add("approve: confirmation", status, took)
    fields = HIDDEN.findall(body)
    answer = {
        "action": "approve_selected",
        "post": "yes",
        "reason": "",
        "_selected_action": [v.decode() for n, v in fields if n == b"_selected_action"],
        "_seen": [v.decode() for n, v in fields if n == b"_seen"],
    }
    status, _, took = browser.request("POST", url, answer)
    results.add("approve: decision", status, took)


POOL: dict[str, list[str]] = {}
POOL_LOCK = threading.Lock()


def next_pool_draft(*, tenant_id: str) -> str:
    with POOL_LOCK:
        return POOL[tenant_id].pop()


def fill_pool(*, decisions: int) -> None:
    """Enough submitted pool drafts for every decision the run may take, read up front."""
    from bench.run import approve_pool

    for tenant in people.measured_tenants():
        batches = approve_pool(tenant_id=tenant.tenant_id, count=max(1, decisions // 50 + 1))
        POOL[tenant.tenant_id] = [draft for batch in batches for draft in batch]


def percentile(*, values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def run_load(*, users: int, seconds: int) -> dict:
    """Serve the portal with gunicorn, run `users` people for `seconds`, stop it; the figures."""
    fill_pool(decisions=int(users * seconds * 20 * DECISION_SHARE))
    env = environment(
        {
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "DATABASE_OWNER_URL": os.environ["DATABASE_OWNER_URL"],
        }
    )
    gunicorn = start_gunicorn(env, port=PORT, workers=WORKERS, threads=THREADS)
    try:
        wait_until_serving(port=PORT)
        results = Results()
        # Sign-ins (a password hash each, ~0.3 s of CPU) happen before the clock starts.
        with ThreadPoolExecutor(WORKERS) as pool:
            browsers = list(pool.map(lambda n: sign_in(number=n), range(users)))
        if None in browsers:
            raise RuntimeError("A simulated person could not sign in.")
        until = [0.0]
        start = threading.Barrier(users + 1)
        threads = [
            threading.Thread(
                target=simulate,
                kwargs={
                    "number": n,
                    "browser": browser,
                    "start": start,
                    "until": until,
                    "results": results,
                },
            )
            for n, browser in enumerate(browsers)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        until[0] = started + seconds
        start.wait()
        for thread in threads:
            thread.join(seconds + 60)
        elapsed = time.monotonic() - started
    finally:
        gunicorn.terminate()
        gunicorn.wait(30)
    return summary(results=results, users=users, elapsed=elapsed)


def summary(*, results: Results, users: int, elapsed: float) -> dict:
    requests = results.requests
    latencies = [seconds * 1e3 for _, status, seconds in requests if status < 500]
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "gunicorn": f"{WORKERS} workers x {THREADS} thread",
        "requests": len(requests),
        "requests_per_s": round(len(requests) / elapsed, 1),
        "errors_5xx_or_broken": sum(status >= 500 for _, status, _ in requests),
        "refused_4xx": sum(400 <= status < 500 for _, status, _ in requests),
        "decisions": sum(path == "approve: decision" for path, _, _ in requests),
        "latency_ms": {
            name: round(percentile(values=latencies, share=share))
            for name, share in (
                ("p50", 0.5),
                ("p90", 0.9),
                ("p95", 0.95),
                ("p99", 0.99),
                ("max", 1),
            )
        },
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
