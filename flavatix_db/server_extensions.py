"""Extensions the test suite's server needs beyond contrib, and what provides them.

pg_cron is preloaded, as on Supabase; plpgsql_check checks every PL/pgSQL
function at head. Neither ships with the postgresql packages: on Debian each is
a package of its own. ``python -m flavatix_db.server_extensions`` prints the
missing packages' names (nothing when all are there); scripts/test installs
them when it runs as root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flavatix_db.cluster import ClusterError, find_bin_dir, server_major

# extension -> the Debian package that provides it, {major} being the server's.
TEST_EXTENSIONS: dict[str, str] = {
    "pg_cron": "postgresql-{major}-cron",
    "plpgsql_check": "postgresql-{major}-plpgsql-check",
}


def _pg_config(bindir: Path, option: str) -> Path:
    # The server's own pg_config: the one on PATH may belong to another version.
    pg_config = bindir / "pg_config"
    out = subprocess.run(
        [str(pg_config if pg_config.is_file() else "pg_config"), option],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or not out.stdout.strip():
        raise ClusterError(f"pg_config {option} failed next to {bindir}: install postgresql")
    return Path(out.stdout.strip())


def is_installed(extension: str, bindir: Path) -> bool:
    """Both halves are there: the shared library and the extension's control file."""
    library = _pg_config(bindir, "--pkglibdir") / f"{extension}.so"
    control = _pg_config(bindir, "--sharedir") / "extension" / f"{extension}.control"
    return library.is_file() and control.is_file()


def missing_packages(bindir: Path | None = None) -> list[str]:
    """Debian package names for the test extensions this server lacks."""
    bindir = bindir or find_bin_dir()
    major = server_major(bindir)
    return [
        package.format(major=major)
        for extension, package in TEST_EXTENSIONS.items()
        if not is_installed(extension, bindir)
    ]


def main() -> int:
    try:
        missing = missing_packages()
    except ClusterError as exc:
        print(f"flavatix-db: {exc}", file=sys.stderr)
        return 1
    if missing:
        print(" ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
