"""A throwaway PostgreSQL cluster for the tests and the bench: ``initdb`` into a temporary
folder, ``postgres`` listening on 127.0.0.1 on a free port (and on a unix socket in the
same folder), stopped and deleted at the end. Debian's ``postgresql`` package puts the
server's programs in ``/usr/lib/postgresql/<major>/bin``, not on PATH; ``ASL_PG_BIN`` names
another folder. The server refuses to run as root: as root, the cluster runs as the
``postgres`` user (which the package creates).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["Cluster", "cluster", "pg_bin", "why_unavailable"]


def pg_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = [os.environ.get("ASL_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for folder in candidates:
        if folder and all((Path(folder) / p).is_file() for p in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def why_unavailable() -> str | None:
    """Why no cluster can be started here (None when one can)."""
    if pg_bin() is None:
        return (
            "PostgreSQL server binaries not found (apt-get install postgresql, or set "
            "ASL_PG_BIN to the folder with initdb, pg_ctl and postgres)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A running cluster; :meth:`database` makes an empty database and returns its URL."""

    def __init__(self, folder: Path, port: int, user: str) -> None:
        self.folder = folder
        self.port = port
        self.user = user

    def url(self, database: str = "postgres") -> str:
        """The URL of ``database`` over TCP on 127.0.0.1."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database's URL."""
        import psycopg

        name = "asl_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """Start a cluster for the duration of the ``with`` block."""
    reason = why_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    bin_dir = pg_bin()
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="asl-pg-"))
    run_as: dict[str, Any] = {}
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        run_as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        user = "postgres"
    data = folder / "data"
    port = _free_port()
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    try:
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            cwd=folder,
            **quiet,
            **run_as,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            cwd=folder,
            **quiet,
            **run_as,
        )
    except subprocess.CalledProcessError as exc:
        log = folder / "server.log"
        detail = (exc.stderr or b"").decode(errors="replace")
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {detail}") from exc
    try:
        yield Cluster(folder, port, user)
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            **run_as,
        )
        shutil.rmtree(folder, ignore_errors=True)
