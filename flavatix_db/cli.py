"""The flavatix-db command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import psycopg2
import psycopg2.extensions
import sqlalchemy.exc
from alembic.util import CommandError
from sqlalchemy.engine import URL

from flavatix_db import cluster, database_url, migrations, wheel_chart

Handler = Callable[[argparse.Namespace], int]


def libpq(url: URL) -> str:
    return database_url.to_libpq(url)


def cmd_db(args: argparse.Namespace) -> int:
    embedded = cluster.embedded()
    if args.action == "start":
        print(embedded.start())
    elif args.action == "stop":
        print("stopped" if embedded.stop() else "not running")
    elif args.action == "status":
        if embedded.is_running():
            print(f"running at {embedded.url()} (data in {embedded.home})")
        else:
            print(f"stopped (data in {embedded.home})")
            return 3
    else:
        if not embedded.is_running():
            raise cluster.ClusterError("the embedded cluster is not running: flavatix-db db start")
        print(embedded.url())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the database if it is the embedded one, migrate to head, show what changed."""
    url = database_url.resolve(args.url)
    target = libpq(url)
    print(f"database: {url.render_as_string(hide_password=True)}")
    migrations.upgrade(target, "head")
    print(f"revision: {migrations.current_revision(target)} (head)")
    with psycopg2.connect(target) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM public.flavor_descriptors")
        (rows,) = cur.fetchone() or (0,)
        if rows == 0:
            from flavatix_db import seed_data

            summary = seed_data.load_descriptors(conn, args.rows, seed=42, progress=False)
            rows = summary.rows
            print(f"loaded {rows} sample descriptors")
        cur.execute(
            """
            SELECT normalized_form, count(*) AS uses,
                   array_agg(DISTINCT descriptor_text) AS spellings
            FROM public.flavor_descriptors
            GROUP BY normalized_form
            HAVING count(DISTINCT descriptor_text) > 1
            ORDER BY count(DISTINCT descriptor_text) DESC, uses DESC, normalized_form
            LIMIT 5
            """
        )
        print(f"\n{rows} descriptors; spellings that revision 001 folds into one normalized form:")
        for form, uses, spellings in cur.fetchall():
            shown = ", ".join(repr(s) for s in spellings[:3])
            print(f"  {form!r:<18} {uses:>6} uses, {len(spellings):>2} spellings: {shown}, ...")
        user = show_search_and_wheel(cur)
    if user is not None:
        draw_demo_wheel(args, target, user)
    return 0


def draw_demo_wheel(args: argparse.Namespace, url: str, user: str) -> None:
    """The demo's last step: the wheel it printed, drawn, next to the embedded cluster."""
    embedded = not (args.url or os.environ.get("DATABASE_URL"))
    folder = cluster.embedded().home if embedded else Path.cwd()
    out = folder / "wheel-most-active-user.png"
    wheel_chart.save_user_wheel(url, user, "combined", out)
    shown = out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out
    print(f"\nthe most active user's wheel, drawn: {shown}")


def show_search_and_wheel(cur: psycopg2.extensions.cursor) -> str | None:
    """What revisions 002-004 give the app: typo-tolerant search and a wheel."""
    cur.execute("SELECT public.refresh_descriptor_views()")
    cur.execute(
        "SELECT descriptor_text FROM public.find_similar_descriptors('vanila', p_limit => 3)"
    )
    similar = ", ".join(repr(row[0]) for row in cur.fetchall())
    print("\nfind_similar_descriptors('vanila'): " + similar)
    cur.execute(
        "SELECT descriptor_text, descriptor_type, match_type "
        "FROM public.autocomplete_descriptors('cho', p_limit => 4)"
    )
    completions = ", ".join(f"{text!r} ({kind}, {match})" for text, kind, match in cur.fetchall())
    print(f"autocomplete_descriptors('cho'): {completions}")
    cur.execute(
        "SELECT user_id FROM public.flavor_descriptors GROUP BY user_id "
        "ORDER BY count(*) DESC, user_id LIMIT 1"
    )
    user = cur.fetchone()
    if user is None:
        return None
    cur.execute("SELECT public.generate_wheel_data_optimized(%s)", user)
    wheel = (cur.fetchone() or ({},))[0]
    print(
        f"combined wheel of the most active user: {wheel['totalDescriptors']} descriptors, "
        f"{wheel['uniqueDescriptors']} distinct"
    )
    for category in wheel["categories"][:5]:
        top = category["subcategories"][0]
        names = ", ".join(d["text"] for d in top["descriptors"][:3])
        print(
            f"  {category['name']:<14} {category['percentage']:>5}%  top: {top['name']} ({names})"
        )
    return str(user[0])


def cmd_wheel(args: argparse.Namespace) -> int:
    wheel_chart.check_arguments(args.user, args.type, args.out)  # before starting a cluster
    url = libpq(database_url.resolve(args.url))
    drawn = wheel_chart.save_user_wheel(url, args.user, args.type, args.out)
    print(f"wrote {drawn.path}: {drawn.total_descriptors} descriptors")
    return 0


def cmd_seed_data(args: argparse.Namespace) -> int:
    from flavatix_db import seed_data

    url = libpq(database_url.resolve(args.url))
    with psycopg2.connect(url) as conn:
        summary = seed_data.load_descriptors(conn, args.rows, seed=args.seed, progress=True)
    print(
        f"loaded {summary.rows} descriptors for {summary.users} users "
        f"({summary.concepts} concepts) in {summary.seconds:.1f}s"
    )
    return 0


def print_traffic(command: str, result: Any) -> int:
    """The migration's duration, each kind of statement's longest wait, the failures."""
    report = result.traffic
    print(f"{command}: {result.seconds:.1f} s")
    kinds = [("INSERT", report.inserts, report.insert_max_ms)]
    kinds.append(("SELECT", report.selects, report.select_max_ms))
    if report.updates or report.deletes:
        kinds.append(("UPDATE", report.updates, report.update_max_ms))
        kinds.append(("DELETE", report.deletes, report.delete_max_ms))
    for kind, count, longest in kinds:
        print(f"concurrent single-row {kind}: {count} ran, longest wait {longest:.0f} ms")
    print(f"failed statements: {len(report.errors)}")
    if report.errors:
        print(f"first failure: {report.errors[0]}")
        return 1
    return 0


def cmd_upgrade_under_load(args: argparse.Namespace) -> int:
    """Upgrade (then, if asked, downgrade) while application-like traffic runs."""
    from flavatix_db import traffic

    url = libpq(database_url.resolve(args.url))
    if migrations.current_revision(url) is None:
        migrations.upgrade(url, "000")
    if args.rows:
        from flavatix_db import seed_data

        with psycopg2.connect(url) as conn:
            seed_data.load_descriptors(conn, args.rows, seed=args.seed, progress=True)
    result = traffic.upgrade_under_traffic(url, args.target, migrations.upgrade)
    status = print_traffic(f"alembic upgrade {args.target}", result)
    if args.downgrade_to is None:
        return status
    # Downgrades carry rows back (005) and drop what was added: the traffic
    # also updates and deletes, so every kind of write meets them.
    back = traffic.migrate_under_traffic(url, args.downgrade_to, migrations.downgrade, mixed=True)
    return print_traffic(f"alembic downgrade {args.downgrade_to}", back) or status


def cmd_bench(args: argparse.Namespace) -> int:
    from flavatix_db import bench

    url = libpq(database_url.resolve(args.url))
    result = bench.run(
        url,
        args.rows,
        seed=args.seed,
        reps=args.reps,
        changes=args.changes,
        insert_rounds=args.insert_rounds,
        partitioned=args.partitioned,
    )
    print(bench.format_table(result))
    if args.json:
        bench.write_json(result, args.json)
        print(f"wrote {args.json}")
    if args.chart:
        bench.write_chart(result, args.chart)
        print(f"wrote {args.chart}")
    return 0 if all(q.same_answers for q in result.queries) else 2


def cmd_bench_months(args: argparse.Namespace) -> int:
    from flavatix_db import bench_months

    url = libpq(database_url.resolve(args.url))
    try:
        months = [int(m) for m in args.months.split(",")]
    except ValueError:
        print(
            f"flavatix-db: --months takes numbers like 24,48,96, not {args.months!r}",
            file=sys.stderr,
        )
        return 2
    try:
        rows = bench_months.run(url, args.rows, months, seed=args.seed, reps=args.reps)
    except bench_months.MonthsProbeError as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
        return 1
    print(bench_months.format_table(rows))
    return 0


def cmd_partition(args: argparse.Namespace) -> int:
    """Revision 005's switch-over and partition housekeeping."""
    import json

    from tqdm import tqdm

    from flavatix_db import partitioning

    url = libpq(database_url.resolve(args.url))
    try:
        if args.action == "status":
            report = partitioning.status(url)
            print(json.dumps(report, indent=2, default=str) if args.json else _status(report))
        elif args.action == "migrate":
            with tqdm(unit="row", desc="copy", disable=args.dry_run, file=sys.stderr) as bar:

                def show(step: partitioning.Step) -> None:
                    bar.total = max(step.rows_total, step.rows_copied)
                    bar.update(step.rows_copied - bar.n)
                    if step.step != "copy" or args.dry_run:
                        tqdm.write(f"{step.step}: {step.detail}", file=sys.stdout)

                if args.with_traffic and not args.dry_run:
                    return _migrate_under_traffic(url, args.batch_size, show, args.baseline)
                partitioning.migrate(url, args.batch_size, dry_run=args.dry_run, on_step=show)
        elif args.action == "detach":
            if not args.name:
                raise partitioning.PartitioningError("partition detach needs a partition name")
            print(f"detached {partitioning.detach(url, args.name)} (its rows are kept there)")
        else:
            print(partitioning.cleanup(url))
    except partitioning.PartitioningError as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
        return 1
    return 0


def _migrate_under_traffic(
    url: str, batch_size: int, show: Callable[[Any], None], baseline: int
) -> int:
    """`partition migrate` while a writer inserts, updates, deletes and reads.

    The same writer runs alone for ``baseline`` seconds first: a wait it meets
    then (a checkpoint's I/O, other work on the machine) is not the migration's.
    """
    import time

    from flavatix_db import partitioning, traffic

    with traffic.Traffic(url, traffic.sample_users(url), mixed=True) as writer:
        time.sleep(0.5)
        alone = writer.mark()
        time.sleep(baseline)
        beside = writer.mark()
        started = time.perf_counter()
        step = partitioning.migrate(url, batch_size, on_step=show)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
    before = writer.report(since=alone, until=beside)
    report = writer.report(since=beside)
    print(
        f"partition migrate: {seconds:.1f} s, {step.rows_copied} rows copied "
        f"({step.rows_copied / seconds:.0f} rows/s)"
    )
    if baseline:
        print(
            f"the writer alone for {baseline} s before: {_statements(before)}; "
            f"longest wait {before.max_wait_ms:.0f} ms; {len(before.errors)} failed"
        )
    print(
        f"concurrent writer: {_statements(report)}; longest wait "
        f"{report.max_wait_ms:.0f} ms; {len(report.errors)} failed"
    )
    for slow in (*before.slow, *report.slow):
        print(
            f"  {slow.kind} started {slow.started_at.isoformat(timespec='milliseconds')} "
            f"took {slow.ms:.0f} ms" + (" (writer alone)" if slow in before.slow else "")
        )
    for error in report.errors[:3]:
        print(f"  failed: {error}")
    return 1 if report.errors else 0


def _statements(report: Any) -> str:
    return (
        f"{report.inserts} INSERT, {report.updates} UPDATE, "
        f"{report.deletes} DELETE, {report.selects} SELECT"
    )


def _status(report: dict[str, Any]) -> str:
    if not report["revision_005"]:
        return "flavor_descriptors: unpartitioned (revision 005 is not applied)"
    lines = [f"flavor_descriptors: {report['live']}"]
    if report["migration"]:
        m = report["migration"]
        lines.append(
            f"migration to {m['target']}: {m['phase']}, {m['rows_copied']} of about "
            f"{m['rows_total']} rows copied (started {m['started_at']})"
        )
    if report["kept_in_step"]:
        lines.append(
            f"previous table {report['kept_in_step']} is kept in step "
            "(drop it with `flavatix-db partition cleanup`)"
        )
    parts = report.get("partitions")
    if parts:
        lines.append(
            f"partitions: {parts['monthly']} monthly from {parts['oldest_month']}, "
            f"{parts['months_ahead']} months ahead, {parts['rows_in_default']} rows "
            "in the default partition"
        )
    return "\n".join(lines)


def cmd_maintain(args: argparse.Namespace) -> int:
    """The plan's scheduled jobs, once or each at its cadence."""
    import json
    import logging
    import signal

    from flavatix_db import maintenance

    # One line per job on stderr; stdout stays for --json.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    maintenance.log.handlers[:] = [handler]
    maintenance.log.setLevel(logging.INFO)
    maintenance.log.propagate = False
    url = libpq(database_url.resolve(args.url))
    if args.loop:
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        failures = maintenance.run_loop(url, should_stop=lambda: stop["now"])
        return 1 if failures else 0
    runs = maintenance.run_once(url, args.job or maintenance.JOB_NAMES)
    if args.json:
        print(json.dumps(maintenance.as_json(runs), indent=2))
    return 1 if any(run.outcome == "failed" for run in runs) else 0


def cmd_schedule(args: argparse.Namespace) -> int:
    """The same jobs in pg_cron, named flavatix-<job>."""
    import json
    from dataclasses import asdict

    from flavatix_db import schedule

    url = libpq(database_url.resolve(args.url))
    try:
        if args.action == "remove":
            print(f"removed {schedule.remove(url)} flavatix jobs from pg_cron")
            return 0
        jobs = schedule.install(url) if args.action == "install" else schedule.listing(url)
    except schedule.ScheduleError as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([asdict(job) for job in jobs], indent=2))
    else:
        for job in jobs:
            state = "" if job.active else " (inactive)"
            print(f"{job.name:<20} {job.schedule:<13} {job.database:<14} {job.command}{state}")
        if not jobs:
            print("no flavatix jobs in pg_cron (flavatix-db schedule install)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from flavatix_db import status

    report = status.collect(libpq(database_url.resolve(args.url)))
    print(json.dumps(report, indent=2) if args.json else status.render(report))
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import json

    from flavatix_db import status

    try:
        board = status.dashboard(libpq(database_url.resolve(args.url)))
    except RuntimeError as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(board, indent=2) if args.json else status.render_dashboard(board))
    return 0


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line naming the problem, instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be {least} or more, not {value}")
    return value


def count(text: str) -> int:
    """A whole number, zero or more."""
    return whole_number(text, 0)


def positive(text: str) -> int:
    """A whole number, 1 or more."""
    return whole_number(text, 1)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="flavatix-db",
        description="Flavatix database migrations, sample data and benchmark.",
    )
    parser.add_argument(
        "--url",
        help="database URL (default: $DATABASE_URL, else the embedded cluster)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the embedded PostgreSQL cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(handler=cmd_db)

    demo = sub.add_parser("demo", help="migrate to head and show the result on sample data")
    demo.add_argument(
        "--rows", type=count, default=20_000, help="sample rows if the table is empty"
    )
    demo.set_defaults(handler=cmd_demo)

    wheel = sub.add_parser("wheel", help="draw a user's flavor wheel as an SVG or PNG sunburst")
    wheel.add_argument("--user", required=True, help="the user's id (a UUID)")
    wheel.add_argument(
        "--type", default="combined", help="combined (default), aroma, flavor, metaphor"
    )
    wheel.add_argument("--out", type=Path, required=True, help="FILE.svg or FILE.png")
    wheel.set_defaults(handler=cmd_wheel)

    seed = sub.add_parser("seed-data", help="load a realistic, deterministic dataset")
    seed.add_argument("--rows", type=positive, required=True)
    seed.add_argument("--seed", type=int, default=42)
    seed.set_defaults(handler=cmd_seed_data)

    load = sub.add_parser(
        "upgrade-under-load",
        help="alembic upgrade while single-row writes and reads run; report their waits",
    )
    load.add_argument("--target", default="head", help="revision to upgrade to")
    load.add_argument(
        "--downgrade-to",
        metavar="REVISION",
        help="then downgrade to this revision under traffic that also updates and deletes",
    )
    load.add_argument("--rows", type=count, default=0, help="load this many rows first")
    load.add_argument("--seed", type=int, default=42)
    load.set_defaults(handler=cmd_upgrade_under_load)

    bench = sub.add_parser(
        "bench",
        help="before/after timings of the six query kinds (uses a scratch database)",
    )
    bench.add_argument("--rows", type=positive, required=True)
    bench.add_argument("--seed", type=int, default=42)
    bench.add_argument("--reps", type=positive, default=30, help="timed calls per kind and side")
    bench.add_argument(
        "--partitioned",
        action="store_true",
        help="switch to the partitioned table (revision 005) before timing the after side",
    )
    bench.add_argument(
        "--changes",
        type=count,
        default=10_000,
        help="changed rows to apply before timing the incremental refresh (0: skip)",
    )
    bench.add_argument(
        "--insert-rounds",
        type=count,
        default=20,
        help="rounds of 100 single-row INSERTs with and without change tracking (0: skip)",
    )
    bench.add_argument("--json", type=Path, help="write the results as JSON here")
    bench.add_argument("--chart", type=Path, help="write a PNG chart here")
    bench.set_defaults(handler=cmd_bench)

    months = sub.add_parser(
        "bench-months",
        help="queries by user alone as monthly partitions accumulate (after bench --partitioned)",
    )
    months.add_argument("--rows", type=positive, required=True)
    months.add_argument("--seed", type=int, default=42)
    months.add_argument("--months", default="36,72,144", help="monthly partition counts")
    months.add_argument("--reps", type=positive, default=200)
    months.set_defaults(handler=cmd_bench_months)

    maintain = sub.add_parser(
        "maintain", help="run the plan's scheduled jobs (snapshot, alerts, refresh, ...)"
    )
    when = maintain.add_mutually_exclusive_group(required=True)
    when.add_argument("--once", action="store_true", help="every job once, then exit")
    when.add_argument("--loop", action="store_true", help="each job at its cadence, until stopped")
    maintain.add_argument(
        "--job",
        action="append",
        choices=["snapshot", "alerts", "refresh", "partitions", "cleanup"],
        help="only this job (repeatable; with --once)",
    )
    maintain.add_argument("--json", action="store_true", help="results as one JSON document")
    maintain.set_defaults(handler=cmd_maintain)

    sched = sub.add_parser("schedule", help="the same jobs in pg_cron (flavatix-<job>)")
    sched.add_argument("action", choices=["install", "remove", "list"])
    sched.add_argument("--json", action="store_true", help="the job list as JSON")
    sched.set_defaults(handler=cmd_schedule)

    stat = sub.add_parser(
        "status", help="revision, verification, partitions, summaries, alerts, jobs"
    )
    stat.add_argument("--json", action="store_true", help="one JSON document")
    stat.set_defaults(handler=cmd_status)

    dash = sub.add_parser("dashboard", help="get_monitoring_dashboard(), readable")
    dash.add_argument("--json", action="store_true", help="the dashboard's JSON as it is")
    dash.set_defaults(handler=cmd_dashboard)

    part = sub.add_parser(
        "partition", help="switch flavor_descriptors to monthly partitions online; housekeeping"
    )
    part.add_argument("action", choices=["migrate", "status", "detach", "cleanup"])
    part.add_argument("name", nargs="?", help="partition to detach")
    part.add_argument("--batch-size", type=positive, default=10_000, help="rows per copy step")
    part.add_argument("--dry-run", action="store_true", help="say what the next step would do")
    part.add_argument("--json", action="store_true", help="status as one JSON document")
    part.add_argument(
        "--with-traffic",
        action="store_true",
        help="migrate while a writer inserts, updates and deletes; report its longest wait",
    )
    part.add_argument(
        "--baseline",
        type=count,
        default=30,
        metavar="SECONDS",
        help="with --with-traffic: run the writer alone this long first and report it apart",
    )
    part.set_defaults(handler=cmd_partition)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (
        cluster.ClusterError,
        database_url.DatabaseUrlError,
        wheel_chart.WheelError,
        CommandError,
    ) as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
    except (psycopg2.OperationalError, sqlalchemy.exc.OperationalError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        first = reason.splitlines()[0] if reason else "connection failed"
        print(f"flavatix-db: cannot connect to the database: {first}", file=sys.stderr)
    except KeyboardInterrupt:
        print("flavatix-db: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
