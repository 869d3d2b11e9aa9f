"""The command line, run as a real process: --help, --screenshot of a loaded window, a bad folder."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

from memgui.demo import generate


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(cwd / "config"),
           "HOME": str(cwd)}
    env.pop("DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "memgui", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_help(tmp_path: Path) -> None:
    result = _run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ("--demo", "--read-only", "--screenshot", "--select", "--tab", "--search", "DATA_DIR"):
        assert option in result.stdout


def test_screenshot_of_the_loaded_window(tmp_path: Path) -> None:
    generate(tmp_path / "store", users=6, seed=2).close()
    shot = tmp_path / "shot.png"
    result = _run(str(tmp_path / "store"), "--screenshot", str(shot), "--select", "bruno", "--tab", "facts",
                  "--size", "1100x700", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _png_size(shot) == (1100, 700)
    assert shot.stat().st_size > 20_000  # a drawn window, not a blank image


def test_screenshot_of_a_search(tmp_path: Path) -> None:
    """``--search`` opens the search pane on a query; the screenshot waits for its results and the first
    one opened, and the index was built in the store's bookkeeping folder."""
    generate(tmp_path / "store", users=6, seed=2).close()
    shot = tmp_path / "search.png"
    result = _run(str(tmp_path / "store"), "--search", "garden", "--screenshot", str(shot), "--size", "1366x768",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _png_size(shot) == (1366, 768)
    assert (tmp_path / "store" / ".memgui" / "search.sqlite3").is_file()


def test_demo_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "demo.png"
    result = _run("--demo", "--screenshot", str(shot), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "demo store in" in result.stderr
    assert _png_size(shot)[0] >= 780
