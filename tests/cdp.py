"""A small headless Chromium driver over the DevTools protocol, for the console's tests.

Chromium is started with ``--remote-debugging-pipe``: it reads protocol messages from
file descriptor 3 and writes its answers and events to descriptor 4, each message JSON
ended by a NUL byte. No WebSocket client and no Playwright are needed. Every wait has a
deadline and fails with what was awaited; nothing sleeps.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

__all__ = ["Browser", "chromium"]


def chromium() -> str | None:
    """The Chromium binary on PATH, if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page: ``with Browser() as b: b.goto(url)``."""

    def __init__(self, width: int = 1280, height: int = 800, timeout: float = 20.0) -> None:
        binary = chromium()
        assert binary is not None, "Chromium is not on PATH"
        self.timeout = timeout
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-pipe",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--window-size={width},{height}",
            "--proxy-server=127.0.0.1:9",  # nothing but the console may answer
            "--proxy-bypass-list=127.0.0.1",
            "about:blank",
        ]
        # bash puts the two pipe ends on descriptors 3 and 4, where Chromium looks.
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        self._process = subprocess.Popen(
            ["bash", "-c", script, binary, *flags],  # dash reads one-digit descriptors only
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("CDP_DEBUG") else subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    # -- the protocol ------------------------------------------------------------------

    def _read_message(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"Chromium did not answer in time: {waiting_for}")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the pipe while waiting for {waiting_for}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def _call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline, method)
            if answer.get("id") == ident:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self.events.append(answer)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a protocol method on the page."""
        return self._call(method, params, self._session)

    def wait_event(self, method: str) -> dict[str, Any]:
        """The next event ``method`` of the page (one already received counts)."""
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            message = self._read_message(deadline, method)
            if "method" in message:
                self.events.append(message)

    # -- what tests do -----------------------------------------------------------------

    def goto(self, url: str) -> None:
        """Open ``url`` and wait until it has loaded."""
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Click the first element matching ``selector`` and wait for the page it opens."""
        self.events.clear()
        found = self.evaluate(
            f"(function () {{ var el = document.querySelector({json.dumps(selector)});"
            " if (!el) { return false; } el.click(); return true; })()"
        )
        assert found, f"no element matches {selector}"
        self.wait_event("Page.loadEventFired")

    def wait_for(self, condition: str, what: str) -> None:
        """Wait until the JavaScript ``condition`` holds, checked on each DOM change."""
        script = f"""new Promise(function (resolve) {{
          function check() {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }}
          if (check()) {{ resolve(true); return; }}
          new MutationObserver(function (_, observer) {{
            if (check()) {{ observer.disconnect(); resolve(true); }}
          }}).observe(document, {{subtree: true, childList: true, attributes: true,
                                  characterData: true}});
        }})"""
        try:
            self.evaluate(script)
        except TimeoutError:
            raise TimeoutError(f"the page never showed {what}") from None

    def screenshot(self, path: Path) -> None:
        """Save the page as a PNG."""
        shot = self.send("Page.captureScreenshot", {"format": "png"})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        """End Chromium."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            self._call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
