"""How the grader runs student code so that nothing it does can hang or break the session.

Three runners share one protocol: the checks of one exercise task run one after another
and report *events* (``start`` of check ``i``, its ``result``, ``done``); the caller
(:func:`drive`) waits for each event with a per-check deadline.

``fork`` (Linux, macOS: the default)
    The checks run in a forked child process, in a process group of its own, with its
    output captured (bounded) and fds 0-2 on ``/dev/null``.  Fork, not spawn: a student's
    function defined in a notebook's ``__main__`` cannot be pickled, but a forked child
    simply has it; it also inherits every module already imported (torch included), so a
    check costs milliseconds.  On a time-out the child is asked for a traceback
    (``faulthandler`` on ``SIGUSR1``, which works even inside a C loop) and then killed
    with ``SIGKILL``: an endless loop inside a bare ``except:``, a C-level loop,
    ``os._exit``, a patched global or a half-finished import all die with the child.
    The child is a small *supervisor* (grader code only) that forks the worker running
    the checks; on Linux it is a subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so that
    processes the student's code starts, even in a session of their own or by a double
    fork, are re-parented to it and killed when the worker ends or is stopped.  On macOS
    only the worker's process group is killed: a process the student puts in a new
    session can outlive the check there.
    Events come back as JSON lines (no pickle: nothing the child sends can run code in
    the session), each line and the whole stream capped in size.  A ``result`` event
    carries only the check's recorded outcomes of student calls (plain data, see
    :mod:`._core`): the session recomputes every verdict from them, so a student's code
    that writes forged events into the pipe (it can find the fd) can at most claim that
    its function returned some plain values, which it could have returned anyway; it can
    never make a check pass that those values would fail.
``spawn`` (where ``os.fork`` is missing, e.g. Windows)
    The checks run in a new Python process (``sys.executable -I``), which is sent the
    student's function and the checks by ``cloudpickle`` (a function defined in the
    notebook is pickled by value, with the globals it uses) and sends back the same JSON
    events on its stdout; the counters of student calls are in a small shared file.  A
    time-out or the end of the checks kills the process (``TerminateProcess`` on
    Windows, ``SIGKILL`` to its process group elsewhere), so an endless loop in C,
    ``os._exit`` or a crash ends that process, never the kernel, and the verdict is
    computed in the session as with ``fork``.  Starting the process costs about a second
    per check cell, and a process the student's code starts in a session or group of its
    own is not stopped with it.  A function that cannot be pickled (it uses an open file,
    a lock, a generator in progress) is graded by the ``thread`` runner instead, with a
    note that says so.
``thread`` (no fork and no ``cloudpickle``, or a function that cannot be pickled)
    The checks run in a daemon thread of the notebook's own process; a time-out injects
    an exception into it, which stops most slow Python code.  A true endless loop (one
    that catches everything, or loops inside C) cannot be stopped there: the grader says
    so, skips the remaining checks, and the loop keeps a core busy until the kernel is
    restarted.  A warning is printed once per session.
``inline`` (no threads either, e.g. Pyodide)
    The checks run directly, with no time limit; a warning is printed once.

``LRNOTES_GRADER_ISOLATION=fork|spawn|thread|inline`` forces a runner (the tests use it;
CI runs the isolation tests with ``spawn`` as well as ``fork``).
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import io
import json
import mmap
import os
import queue
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings

__all__ = ["BoundedText", "Counters", "COUNTERS", "runner_name", "warn_if_fallback", "spawn_payload", "drive",
           "GraderStop"]

#: Caps on what crosses from the child: one event line (a check's recorded outcomes), and
#: all of them together.
MAX_LINE = 48_000_000
MAX_STREAM = 200_000_000
ENV_ISOLATION = "LRNOTES_GRADER_ISOLATION"
SPAWN_START = 60.0  # seconds a spawned process may take to start, before its first check
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LRNOTES_DIR = os.path.dirname(_PACKAGE_DIR)
_warned: set[str] = set()
_LIVE: set[int] = set()  # forked workers not yet reaped


class GraderStop(BaseException):
    """Injected into the worker thread (``thread`` runner) when a check runs too long."""


class BoundedText(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int = 2_000):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        if not isinstance(s, str):
            try:
                s = str(s)
            except BaseException:  # noqa: BLE001 - a student's object may raise anything
                s = "<unprintable>"
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def take(self) -> str:
        """The text so far (with a note of how much was dropped); then start afresh."""
        text = "".join(self.parts)
        if self.dropped:
            text += f"\n... ({self.dropped:,} more characters not shown)"
        self.parts, self.kept, self.dropped = [], 0, 0
        return text


class Counters:
    """Calls of student code started and finished during the current check, in memory
    shared with the parent (an anonymous mmap survives fork), so that a time-out can tell
    "never returned" from "returned, but too slowly"."""

    _FMT = "qq"

    def __init__(self):
        self._mem = mmap.mmap(-1, struct.calcsize(self._FMT))
        self.reset()

    def reset(self) -> None:
        struct.pack_into(self._FMT, self._mem, 0, 0, 0)

    def read(self) -> tuple[int, int]:
        return struct.unpack_from(self._FMT, self._mem, 0)

    def started(self) -> None:
        a, b = self.read()
        struct.pack_into(self._FMT, self._mem, 0, a + 1, b)

    def finished(self) -> None:
        a, b = self.read()
        struct.pack_into(self._FMT, self._mem, 0, a, b + 1)

    def attach(self, path: str):
        """Keep the counters in the file ``path`` (shared with a spawned process); return
        the memory used before, for :meth:`detach`."""
        with open(path, "r+b") as f:
            mem = mmap.mmap(f.fileno(), struct.calcsize(self._FMT))
        saved, self._mem = self._mem, mem
        return saved

    def detach(self, saved) -> None:
        mem, self._mem = self._mem, saved
        with contextlib.suppress(Exception):
            mem.close()


COUNTERS = Counters()


def runner_name() -> str:
    """The runner this platform uses (or the one forced by ``$LRNOTES_GRADER_ISOLATION``)."""
    forced = os.environ.get(ENV_ISOLATION, "").strip().lower()
    if forced in ("fork", "spawn", "thread", "inline"):
        return forced
    if hasattr(os, "fork") and hasattr(signal, "SIGKILL") and sys.platform != "emscripten":
        return "fork"
    if sys.platform == "emscripten":
        return "inline"
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        return "thread"
    return "spawn" if sys.executable else "thread"


_FALLBACK_NOTES = {
    "spawn": "this platform has no os.fork (e.g. Windows), so each check cell runs your code in a "
             "new Python process (it takes about a second to start). A time limit, an endless loop "
             "or a crash stops only that process; a program your code starts itself is not stopped "
             "with it.",
    "unpicklable": "your function could not be sent to a separate process ({why}), so this check "
                   "cell runs it inside the notebook's own process: an endless loop in C code cannot "
                   "be interrupted there (restart the kernel), and os._exit or a crash ends the kernel.",
    "thread": "this platform has no os.fork and the grader cannot start a separate process "
              "(install cloudpickle), so checks run inside the notebook's own process. A time limit "
              "stops most slow code, but an endless loop in C code cannot be interrupted (restart the "
              "kernel), and code that calls os._exit or crashes ends the kernel. Code that tampers with "
              "the grader itself could also fool a check here: for a verdict you can trust, install "
              "cloudpickle, or run the notebook on Linux, macOS or Colab.",
    "inline": "this platform has neither os.fork nor threads: checks run with no time limit, "
              "so an endless loop in your code will hang this cell.",
}


def warn_if_fallback(kind: str, why: str = "") -> None:
    """Print, once per session, what a fallback runner cannot do (``unpicklable``: each time)."""
    if kind in _FALLBACK_NOTES and (kind not in _warned or kind == "unpicklable"):
        _warned.add(kind)
        print(f"Note from the grader: {_FALLBACK_NOTES[kind].format(why=why)}")


def spawn_payload(work, capture: "BoundedText", reset) -> tuple[bytes | None, str]:
    """What the ``spawn`` runner sends its process: ``work``, ``capture`` and ``reset``
    pickled together (so that the child's ``work`` writes to the child's ``capture``), or
    ``(None, why)`` when they cannot be pickled."""
    try:
        import cloudpickle

        return cloudpickle.dumps((work, capture, reset)), ""
    except Exception as exc:  # noqa: BLE001 - whatever the student's globals hold
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"


# ============================================================================ sources of events
class _ForkSource:
    """Run ``work(emit)`` in a forked child; read its events from a pipe."""

    def __init__(self, work, prepare_child):
        self.parts, self.pending, self.received, self.events = [], 0, 0, []
        rfd, wfd = os.pipe()
        self.tb_r, tb_w = os.pipe()
        with warnings.catch_warnings():  # Python >= 3.12 warns about fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
            if pid:
                _LIVE.add(pid)
        if pid == 0:  # ------------------------------------------------ the supervisor
            status = 70
            try:
                os.close(rfd)
                os.close(self.tb_r)
                status = _supervise(work, prepare_child, wfd, tb_w)
            except BaseException:  # noqa: BLE001 - nothing may escape the child
                pass
            finally:
                os._exit(status)
        # ---------------------------------------------------------------- the parent
        self.pid, self.fd = pid, rfd
        os.close(wfd)
        os.close(tb_w)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also done in the child; whichever runs first wins

    def next(self, timeout: float):
        """The next event, ``"timeout"``, or ``("end", how)`` if the child is gone."""
        end = time.monotonic() + max(timeout, 0.0)
        while not self.events:
            left = end - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 65_536)
            if not chunk:
                return ("end", self._reap())
            self.received += len(chunk)
            if self.received > MAX_STREAM:
                self.stop()
                return ("end", f"it sent the grader more than {MAX_STREAM // 10**6} MB of results")
            if b"\n" not in chunk:  # a long line arrives in many chunks: join them once
                self.parts.append(chunk)
                self.pending += len(chunk)
                if self.pending > MAX_LINE:
                    self.stop()
                    return ("end", "it sent the grader an oversized result")
                continue
            *lines, rest = b"".join(self.parts + [chunk]).split(b"\n")
            self.parts, self.pending = [rest], len(rest)
            for line in lines:
                try:
                    event = json.loads(line.decode("ascii"))
                except (UnicodeDecodeError, ValueError):
                    event = {"type": "garbled"}
                self.events.append(event if isinstance(event, dict) else {"type": "garbled"})
        return self.events.pop(0)

    def where(self) -> str:
        """Ask the child where it is (faulthandler dump), for the time-out message."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGUSR1)
        text, end = b"", time.monotonic() + 0.5
        while time.monotonic() < end and len(text) < 20_000:
            ready, _, _ = select.select([self.tb_r], [], [], 0.1)
            if not ready:
                if text:
                    break
                continue
            chunk = os.read(self.tb_r, 8_192)
            if not chunk:
                break
            text += chunk
        return _student_frame(text.decode("utf-8", "replace"))

    def _wait_zombie(self, grace: float) -> None:
        """Give the supervisor ``grace`` seconds to end the worker's process tree and exit
        (left unreaped, so that its process group still names the stragglers)."""
        end = time.monotonic() + grace
        while hasattr(os, "waitid") and time.monotonic() < end:
            try:
                if os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                    return
            except ChildProcessError:
                return
            time.sleep(0.0005)

    def _reap(self) -> str:
        self._wait_zombie(2.0)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGKILL)
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            return "it ended the process"
        _LIVE.discard(self.pid)
        self.pid = None
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            return f"the process running it was killed by signal {name}"
        return f"it ended the process (exit status {os.WEXITSTATUS(status)}, e.g. os._exit)"

    def stop(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGTERM)  # the supervisor kills the worker and its tree
            self._wait_zombie(2.0)
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(self.pid, 0)
            _LIVE.discard(self.pid)
            self.pid = None
        for fd in (self.fd, self.tb_r):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fd = self.tb_r = -1


# ============================================================================ the process tree
_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Linux: orphaned descendants (a double fork, ``start_new_session=True``) are
    re-parented to this process instead of to init, so that it can end them."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(pid: int) -> set[int]:
    """The children of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    kids: set[int] = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.update(int(k) for k in f.read().split())
        return kids
    except (OSError, ValueError):
        pass
    try:
        names = [n for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return kids
    for name in names:
        try:
            with open(f"/proc/{name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.add(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return kids


def _end_descendants(grace: float = 2.0) -> None:
    """Kill every child of this (subreaper) process, and those re-parented to it as their
    parents die, until none is left (or ``grace`` seconds passed)."""
    me, end = os.getpid(), time.monotonic() + grace
    while time.monotonic() < end:
        for kid in _children(me):
            with contextlib.suppress(OSError):
                os.kill(kid, signal.SIGKILL)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.001)


def _open_fds() -> list[int]:
    for where in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError, ValueError):
            return sorted(int(n) for n in os.listdir(where))
    return list(range(3, 1024))


def _blank_inherited_fds(keep: tuple[int, ...]) -> None:
    """Point every file descriptor the child inherited from the session (beyond 0-2 and
    ``keep``) at ``/dev/null``: the kernel's ZMQ sockets, a test runner's pipes, open
    files.  Student code that writes to every fd it can find then reaches nothing but the
    grader's own pipe, whose records the session only replays (see :mod:`._core`).  The
    fds stay open, so an object that later closes its own fd closes only ``/dev/null``."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _open_fds():
        if fd > 2 and fd not in keep and fd != null:
            with contextlib.suppress(OSError):
                os.fstat(fd)
                os.dup2(null, fd, inheritable=False)
    os.close(null)


def _supervise(work, prepare_child, wfd: int, tb_w: int) -> int:
    """The forked supervisor (grader code only): a process group of its own and, on Linux,
    a subreaper; it forks the worker that runs ``work(emit)``, waits for it, then ends
    every process the worker left behind, and exits as the worker did.  ``SIGTERM`` from
    the session ends the worker now; ``SIGUSR1`` (the traceback request) is passed on."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _blank_inherited_fds(keep=(wfd, tb_w))
    _become_subreaper()
    worker: list = [None]

    def forward(sig, frame):
        if worker[0] is not None:
            with contextlib.suppress(OSError):
                os.kill(worker[0], signal.SIGKILL if sig == signal.SIGTERM else sig)

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the session handles Jupyter's interrupt
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGUSR1, forward)
    pid = os.fork()
    if pid == 0:  # ------------------------------------------------ the worker
        status = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            prepare_child(tb_w)
            out = os.fdopen(wfd, "wb", buffering=0)

            def emit(event: dict) -> None:
                line = json.dumps(event, ensure_ascii=True).encode("ascii") + b"\n"
                out.write(line if len(line) <= MAX_LINE else b'{"type": "oversize"}\n')

            work(emit)
        except BaseException:  # noqa: BLE001 - nothing may escape the worker
            status = 70
        finally:
            os._exit(status)
    worker[0] = pid
    os.close(wfd)
    os.close(tb_w)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            status = 70 << 8
            break
    worker[0] = None
    _end_descendants()
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(Exception):
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with contextlib.suppress(Exception):
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)  # die of the worker's signal (the session reports it)
        return 128 + sig
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70


_BOOT = ("import sys, json; n = int(sys.stdin.buffer.readline()); "
         "sys.path[:] = json.loads(sys.stdin.buffer.read(n)); "
         "from lrnotes.grading._isolation import _spawned; _spawned()")


class _QueueSource:
    """A source whose events arrive on ``self.queue`` (from a thread)."""

    queue: "queue.Queue"

    def next(self, timeout: float):
        """The next event, or ``"timeout"``."""
        try:
            return self.queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return "timeout"


class _SpawnSource(_QueueSource):
    """Run ``work(emit)`` in a new Python process (see the module docstring); read its
    events from its stdout, in a thread (``select`` does not take pipes on Windows)."""

    def __init__(self, payload: bytes):
        self.queue: queue.Queue = queue.Queue()
        self.err = BoundedText(40_000)
        fd, self.counter_path = tempfile.mkstemp(prefix="lrnotes-grader-")
        os.write(fd, b"\0" * struct.calcsize(Counters._FMT))
        os.close(fd)
        self.saved_mem = COUNTERS.attach(self.counter_path)
        flags = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
                 else {"start_new_session": True})
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _BOOT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, **flags)
        paths = json.dumps([p for p in sys.path if isinstance(p, str)]).encode()
        message = b"%d\n" % len(paths) + paths + json.dumps(self.counter_path).encode() + b"\n" + payload
        threading.Thread(target=self._send, args=(message,), daemon=True).start()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _send(self, message: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write(message)
            self.proc.stdin.close()

    def _read(self) -> None:
        received = 0
        try:
            while True:
                line = self.proc.stdout.readline(MAX_LINE + 1)
                if not line:
                    break
                received += len(line)
                if len(line) > MAX_LINE or received > MAX_STREAM:
                    self.queue.put({"type": "oversize"})
                    return
                try:
                    event = json.loads(line.decode("ascii"))
                except (UnicodeDecodeError, ValueError):
                    event = {"type": "garbled"}
                self.queue.put(event if isinstance(event, dict) else {"type": "garbled"})
        except (OSError, ValueError):
            pass
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if code is None or code == 0:
            how = "it ended the process"
        elif code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            how = f"the process running it was killed by signal {name}"
        else:
            how = f"it ended the process (exit status {code}, e.g. os._exit or a crash)"
        self.queue.put(("end", how))

    def _read_err(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: self.proc.stderr.read1(8_192), b""):
                self.err.write(chunk.decode("utf-8", "replace"))

    def where(self) -> str:
        """Ask the process where it is (``faulthandler`` on ``SIGUSR1``; not on Windows)."""
        if not hasattr(signal, "SIGUSR1") or self.proc.poll() is not None:
            return ""
        self.err.take()
        with contextlib.suppress(OSError):
            os.kill(self.proc.pid, signal.SIGUSR1)
        end = time.monotonic() + 0.5
        while time.monotonic() < end and "File" not in "".join(self.err.parts):
            time.sleep(0.02)
        time.sleep(0.05)
        return _student_frame(self.err.take())

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                if os.name == "nt":
                    self.proc.kill()
                else:
                    os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        if self.saved_mem is not None:
            COUNTERS.detach(self.saved_mem)
            self.saved_mem = None
        with contextlib.suppress(OSError):
            os.unlink(self.counter_path)


def _spawned() -> None:
    """The ``spawn`` runner's process: read the payload, run the checks, send the events."""
    status = 70
    try:
        stdin = sys.stdin.buffer
        counter_path = json.loads(stdin.readline())
        data = stdin.read()
        events = os.fdopen(os.dup(1), "wb", buffering=0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(null, fd)
        from lrnotes.grading import _core  # noqa: F401 - the grader's snapshot, before student code

        import pickle

        COUNTERS.attach(counter_path)
        work, capture, reset = pickle.loads(data)
        cap_memory()
        with contextlib.suppress(ValueError, OSError, AttributeError):
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hasattr(signal, "SIGUSR1"):
            faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=False)
        sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
        sys.stdout = sys.stderr = capture
        torch = sys.modules.get("torch")
        if torch is not None:
            with contextlib.suppress(Exception):
                torch.set_num_threads(1)
        import builtins

        def no_input(*args, **kwargs):
            raise RuntimeError("input() cannot be used while grading")

        builtins.input = no_input
        reset()

        def emit(event: dict) -> None:
            line = json.dumps(event, ensure_ascii=True).encode("ascii") + b"\n"
            events.write(line if len(line) <= MAX_LINE else b'{"type": "oversize"}\n')

        work(emit)
        status = 0
    except BaseException:  # noqa: BLE001 - nothing may escape the process
        status = 70
    finally:
        os._exit(status)


class _ThreadSource(_QueueSource):
    """Run ``work(emit)`` in a daemon thread of this process (no fork available)."""

    def __init__(self, work, capture):
        self.queue: queue.Queue = queue.Queue()
        self.capture = capture
        self.abandoned = False

        def target():
            try:
                work(self.queue.put)
            except BaseException:  # noqa: BLE001 - GraderStop, or anything else
                self.queue.put({"type": "stopped"})

        self.thread = threading.Thread(target=target, name="lrnotes-grader", daemon=True)
        self.thread.start()

    def where(self) -> str:
        frame = sys._current_frames().get(self.thread.ident)
        lines = []
        while frame is not None:
            code = frame.f_code
            lines.append(f'  File "{code.co_filename}", line {frame.f_lineno} in {code.co_name}')
            frame = frame.f_back
        return _student_frame("\n".join(lines))

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        tid = ctypes.c_ulong(self.thread.ident)
        for _ in range(20):  # a loop that catches everything swallows the first tries
            ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, ctypes.py_object(GraderStop))
            self.thread.join(0.05)
            if not self.thread.is_alive():
                return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, None)
        self.abandoned = True


class _InlineSource:
    """Run ``work(emit)`` right here, with no time limit (no fork, no threads)."""

    def __init__(self, work):
        self.events: list = []
        work(self.events.append)

    def next(self, timeout: float):
        return self.events.pop(0) if self.events else ("end", "it stopped the grader")

    def where(self) -> str:
        return ""

    def stop(self) -> None:
        pass


# ============================================================================ the child
def _silence_display() -> None:
    """In a forked child, IPython's display machinery talks to the parent's ZMQ sockets:
    replace it with a note in the captured output."""
    ipython = sys.modules.get("IPython")
    shell = getattr(getattr(ipython, "get_ipython", lambda: None)(), "display_pub", None) if ipython else None
    if shell is not None:
        shell.publish = lambda *a, **k: print("[a figure or display() output is not shown while grading]")


MEMORY_ENV = "LRNOTES_GRADER_MEMORY_MB"


def cap_memory(extra_mb: int | None = None) -> int | None:
    """Cap this process's address space at its present size plus ``extra_mb`` MiB
    (``LRNOTES_GRADER_MEMORY_MB``, default 1024), so that a check's huge allocation fails
    with a ``MemoryError`` in the child instead of exhausting the machine.  Linux only (it
    reads ``/proc/self/statm``; elsewhere nothing is capped); returns the cap in bytes."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    if extra_mb is None:
        extra_mb = int(os.environ.get(MEMORY_ENV, 1024))
    try:
        with open("/proc/self/statm") as f:
            now = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = now + extra_mb * 2**20
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):  # no /proc (macOS), or a limit we may not set
        return None
    return cap


def prepare_child(tb_fd: int, capture: BoundedText, reset) -> None:
    """First thing in the forked worker (its supervisor made the process group): a memory
    cap, quiet signals and fds."""
    cap_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Jupyter's interrupt
    for sig in ("SIGALRM", "SIGTERM", "SIGPIPE"):
        if hasattr(signal, sig):
            signal.signal(getattr(signal, sig), signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the child
    sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = capture
    faulthandler.register(signal.SIGUSR1, file=os.fdopen(tb_fd, "w"), all_threads=False)
    torch = sys.modules.get("torch")
    if torch is not None:  # libgomp's thread pool does not survive fork (as in DataLoader)
        with contextlib.suppress(Exception):
            torch.set_num_threads(1)
    _silence_display()
    import builtins

    def no_input(*args, **kwargs):
        raise RuntimeError("input() cannot be used while grading")

    builtins.input = no_input
    reset()


# ============================================================================ the driver
_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


def _is_library(path: str) -> bool:
    path = os.path.abspath(path) if not path.startswith("<") else path
    if path.startswith(_LRNOTES_DIR):
        return True
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return any(path.startswith(os.path.abspath(p) + os.sep) for p in prefixes) or "site-packages" in path


def _student_frame(traceback_text: str) -> str:
    """``"line 4 of `f`"`` for the innermost frame of student code in a traceback dump."""
    for m in _FRAME.finditer(traceback_text):  # most recent call first
        if not _is_library(m["file"]):
            return f"line {m['line']} of `{m['func']}`"
    return ""


def drive(work, *, n_checks: int, limit: float, capture: BoundedText, reset, on_timeout, on_end,
          kind: str | None = None, payload: bytes | None = None):
    """Run ``work(emit)`` in the runner ``kind`` (default: the best one here; ``spawn``
    needs ``payload``, see :func:`spawn_payload`); return ``{index: event}`` of the results.

    ``on_timeout(index, started, finished, where)`` and ``on_end(index, how)`` build the
    result of the check that was running when the limit hit or the worker vanished.
    A ``KeyboardInterrupt`` (Jupyter's interrupt button) stops the worker and is
    re-raised: the grader never swallows it.
    """
    kind = kind or runner_name()
    COUNTERS.reset()
    results: dict[int, dict] = {}
    source = None
    try:
        if kind == "fork":
            source = _ForkSource(work, lambda tb_fd: prepare_child(tb_fd, capture, reset))
        elif kind == "spawn":
            source = _SpawnSource(payload)
        elif kind == "thread":
            source = _ThreadSource(work, capture)
        else:
            source = _InlineSource(work)
        # a spawned process first starts Python and imports the grader: not the check's time
        current, deadline = -1, time.monotonic() + (limit + SPAWN_START if kind == "spawn" else limit)
        while True:
            event = source.next(deadline - time.monotonic())
            if event == "timeout":
                started, finished = COUNTERS.read()
                where = source.where()
                source.stop()
                results[max(current, 0)] = on_timeout(max(current, 0), started, finished, where,
                                                      getattr(source, "abandoned", False))
                break
            if isinstance(event, tuple):
                if current >= 0 and current not in results:
                    results[current] = on_end(current, event[1])
                break
            kind_ = event.get("type")
            if kind_ == "start" and isinstance(event.get("i"), int):
                current, deadline = event["i"], time.monotonic() + limit
            elif kind_ == "result" and event.get("i") == current and 0 <= current < n_checks:
                # only the recorded outcomes are kept: the session computes the verdict
                results[current] = {"type": "outcomes", "outcomes": event.get("outcomes"),
                                    "output": event.get("output")}
            elif kind_ == "done":
                break
            elif kind_ in ("oversize", "garbled", "stopped"):
                results[max(current, 0)] = on_end(max(current, 0), "it sent the grader a result it could not read")
                break
    except KeyboardInterrupt:
        _stop_all(source)
        raise KeyboardInterrupt("grading interrupted: the check was stopped") from None
    finally:
        _stop_all(source)
    return results


def _stop_all(source) -> None:
    """Stop the worker, and any forked worker whose source was not built (an interrupt
    that arrived during the fork)."""
    if source is not None:
        source.stop()
    for pid in list(_LIVE):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
        _LIVE.discard(pid)
