#!/usr/bin/env python3
"""Time from launching tandem in a pseudo-terminal to the end of its first
frame (the end of the first synchronized update, ESC [ ? 2026 l), then quit it.

usage: first_frame.py BIN REPO [--runs N] [--cols 120] [--rows 40]
Prints one JSON line: median, p90, min and max milliseconds over the runs.
"""
import argparse, json, os, pty, select, signal, statistics, subprocess, sys, tempfile, time

END_FRAME = b"\x1b[?2026l"

def one(bin_path, repo, cols, rows, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(repo)
        os.execve(bin_path, [bin_path], env)
    # Set the size before tandem reads it; the child blocks on nothing before that.
    import fcntl, struct, termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    t0 = time.perf_counter()
    buf = b""
    deadline = t0 + 10
    elapsed = None
    while time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        buf += chunk
        if END_FRAME in buf:
            elapsed = (time.perf_counter() - t0) * 1000
            break
    os.write(fd, b"\x11")  # C-q
    end = time.time() + 5
    while time.time() < end:
        try:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                os.read(fd, 65536)
        except OSError:
            break
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    if elapsed is None:
        raise SystemExit(f"no frame seen; output was: {buf[-500:]!r}")
    return elapsed

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("repo")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    a = ap.parse_args()
    # The child changes into the repository before exec.
    a.bin = os.path.abspath(a.bin)
    home = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_CONNECTION", "TANDEM_LOG")}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", HOME=home,
               XDG_CONFIG_HOME=f"{home}/config", XDG_STATE_HOME=f"{home}/state",
               XDG_CACHE_HOME=f"{home}/cache", XDG_DATA_HOME=f"{home}/data")
    one(a.bin, a.repo, a.cols, a.rows, env)  # warm the page cache
    times = sorted(one(a.bin, a.repo, a.cols, a.rows, env) for _ in range(a.runs))
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(json.dumps({"repo": a.repo, "runs": a.runs, "median_ms": round(statistics.median(times), 1),
                      "p90_ms": round(p90, 1), "min_ms": round(times[0], 1), "max_ms": round(times[-1], 1)}))

if __name__ == "__main__":
    main()
