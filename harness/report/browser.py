"""Open a report in headless Chromium, as a person would: load time, visible text, screenshot, PDF.

The harness's own tests and benchmarks use it to check the report in a real browser; a
vendor can use it to print the report to PDF::

    python -m harness.report.browser reports/report.html --pdf report.pdf

It speaks the Chrome DevTools Protocol over the browser's debugging WebSocket (with the
``websockets`` package the harness already depends on). Chromium is the Debian package
``chromium`` (``apt-get install -y chromium``); :func:`find_chromium` says where it is.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Chromium", "find_chromium", "CHROMIUM_FLAGS"]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--mute-audio"]


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium with one page; use as a context manager.

    ``open(url)`` loads a page and returns the seconds until its load event;
    ``evaluate(js)`` returns a JSON value; ``screenshot(path, selector=...)`` and
    ``pdf(path)`` write files.
    """

    def __init__(self, executable: str | None = None, width: int = 1400, height: int = 1000, timeout: float = 60) -> None:
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError("no chromium executable (Debian: apt-get install -y chromium)")
        self.width, self.height, self.timeout = width, height, timeout
        self._ids = itertools.count(1)
        self._profile = tempfile.mkdtemp(prefix="ocpp-report-chromium-")
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: Any = None
        self._stack = contextlib.ExitStack()
        self._session = ""

    def __enter__(self) -> "Chromium":
        from websockets.sync.client import connect

        self._proc = subprocess.Popen(
            [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-port=0",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not open its debugging port")
            time.sleep(0.05)  # Chromium signals its debugging port only by this file: polled, bounded by the deadline
        port, path = port_file.read_text().splitlines()[:2]
        self._ws = self._stack.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=self.timeout, proxy=None))
        target = self._send("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self._send("Page.enable")
        self._send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height, deviceScaleFactor=1,
                   mobile=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._stack.close()
        except Exception:  # the browser may have gone first
            pass
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _send(self, method: str, *, wait_event: str | None = None, **params: Any) -> Any:
        """Send one command (to the page once attached); return its result (after ``wait_event``, if given)."""
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if self._session and not method.startswith("Target."):
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        result: Any = None
        got_result, got_event = False, wait_event is None
        deadline = time.monotonic() + self.timeout
        while not (got_result and got_event):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"chromium: no answer to {method}")
            reply = json.loads(self._ws.recv(timeout=remaining))
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"chromium: {method}: {reply['error']}")
                result, got_result = reply.get("result", {}), True
            elif wait_event is not None and reply.get("method") == wait_event:
                got_event = True
        return result

    def open(self, url: str) -> float:
        """Load ``url``; the seconds from the request to the page's load event."""
        began = time.perf_counter()
        self._send("Page.navigate", url=url, wait_event="Page.loadEventFired")
        return time.perf_counter() - began

    def emulate_print(self, width: int = 718) -> None:
        """Lay the page out as printed: print media, the width of an A4 page inside its margins (CSS pixels)."""
        self._send("Emulation.setEmulatedMedia", media="print")
        self._send("Emulation.setDeviceMetricsOverride", width=width, height=self.height, deviceScaleFactor=1, mobile=False)

    def render_all(self) -> None:
        """Render every section now (the page defers off-screen ones), as scrolling through it would."""
        self.evaluate("(async () => {const s = document.createElement('style');"
                      "s.textContent = '*{content-visibility:visible!important}'; document.head.append(s);"
                      "await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));})()")

    def evaluate(self, expression: str) -> Any:
        result = self._send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"chromium: {expression!r}: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def screenshot(self, path: str | os.PathLike[str], selector: str | None = None, max_height: int = 4000) -> Path:
        """A PNG of the viewport, or of the element ``selector`` names (at most ``max_height`` pixels of it)."""
        params: dict[str, Any] = {"format": "png"}
        if selector is not None:
            # rendered even when the page defers off-screen sections (content-visibility: auto)
            box = self.evaluate(f"(async () => {{const e = document.querySelector({json.dumps(selector)});"
                                "const s = document.createElement('style');"
                                "s.textContent = '*{content-visibility:visible!important}'; document.head.append(s);"
                                "e.scrollIntoView();"
                                "await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));"
                                "const r = e.getBoundingClientRect();"
                                "return [r.left + scrollX, r.top + scrollY, r.width, r.height];})()")
            params["clip"] = {"x": box[0], "y": box[1], "width": box[2], "height": min(box[3], max_height), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self._send("Page.captureScreenshot", **params)["data"]
        target = Path(path)
        target.write_bytes(base64.b64decode(data))
        return target

    def pdf(self, path: str | os.PathLike[str]) -> Path:
        """Print the page as Chromium's print dialog would (A4, the page's own print CSS)."""
        data = self._send("Page.printToPDF", printBackground=True, preferCSSPageSize=True)["data"]
        target = Path(path)
        target.write_bytes(base64.b64decode(data))
        return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="open an OCPP compliance report in headless Chromium")
    parser.add_argument("report", help="report.html")
    parser.add_argument("--pdf", help="print it to this PDF file")
    parser.add_argument("--screenshot", help="a PNG of the first screen")
    args = parser.parse_args(argv)
    with Chromium() as browser:
        seconds = browser.open(Path(args.report).resolve().as_uri())
        print(f"loaded in {seconds:.2f}s")
        if args.pdf:
            print(f"PDF: {browser.pdf(args.pdf)}")
        if args.screenshot:
            print(f"screenshot: {browser.screenshot(args.screenshot)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
