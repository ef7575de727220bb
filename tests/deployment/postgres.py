"""A throw-away PostgreSQL cluster for tests: Debian's binaries, a temp dir, a free port.

initdb refuses to run as root; as root the cluster is created and run by the `postgres` system
user of Debian's package (or `nobody`), through runuser.
"""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def postgres_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: Debian's /usr/lib/postgresql/<major>/bin, else on PATH."""
    majors = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if majors:
        return majors[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _cluster_user() -> str | None:
    """None when not root (run as ourselves); else a system user allowed to own a cluster."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    """Where to reach the cluster; the superuser's name and password."""

    host: str
    port: int
    user: str
    password: str

    def dsn(self, db: str = "postgres") -> str:
        return (
            f"host={self.host} port={self.port} user={self.user} "
            f"password={self.password} dbname={db}"
        )


def _run(argv: list[str], user: str | None, **kwargs: object) -> None:
    prefix = ["runuser", "-u", user, "--"] if user else []
    subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60, **kwargs)  # type: ignore[call-overload]


@contextmanager
def local_postgres(bin_dir: Path) -> Iterator[Postgres]:
    """initdb, start on a free loopback port with password auth, yield, then stop and delete."""
    user = _cluster_user()
    root = Path(tempfile.mkdtemp(prefix="rtr-pg-"))
    password = secrets.token_hex(16)
    try:
        if user:
            shutil.chown(root, user=user)
        pwfile = root / "pw"
        pwfile.write_text(password + "\n", encoding="utf-8")
        if user:
            shutil.chown(pwfile, user=user)
        data = root / "data"
        _run(
            [
                str(bin_dir / "initdb"), "-D", str(data), "-U", "rtr", f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync",
            ],
            user,
        )  # fmt: skip
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options,
             "-w", "-t", "60", "start"],
            user,
        )  # fmt: skip
        try:
            yield Postgres("127.0.0.1", port, "rtr", password)
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], user)
    finally:
        shutil.rmtree(root, ignore_errors=True)
