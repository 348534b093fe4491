"""Nothing in runtime/ outside the clock module reads or waits on real time."""

from __future__ import annotations

import re
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "runtime"
ALLOWED = {"clock.py"}
FORBIDDEN = re.compile(
    r"\b(time\.(sleep|time|monotonic|perf_counter|time_ns)|asyncio\.sleep|anyio\.sleep"
    r"|datetime\.(now|utcnow|today)|date\.today|fail_after|move_on_after|fail_at|move_on_at"
    r"|loop\.time|call_later)\b"
)


def offending_lines() -> list[str]:
    found = []
    for path in sorted(RUNTIME.rglob("*.py")):
        if path.name in ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if FORBIDDEN.search(code):
                found.append(f"{path.relative_to(RUNTIME)}:{number}: {line.strip()}")
    return found


def test_only_the_clock_touches_real_time() -> None:
    assert offending_lines() == []


def test_the_check_catches_a_sleep(tmp_path: Path) -> None:
    assert FORBIDDEN.search("await asyncio.sleep(1)")
    assert FORBIDDEN.search("t = time.time()")
    assert FORBIDDEN.search("with anyio.fail_after(3):")
    assert not FORBIDDEN.search("await clock.sleep_until(deadline)")
