"""Runs the real CLI entry point many times without paying Python's start-up each time.

Started once (``python -m tests.hostile.clidriver``), it imports the CLI, then for every job
read from stdin (one JSON line: argv, env, cwd, timeout) forks a child that runs
``python -m jaraba_tui ARGV`` exactly as the interpreter would (``runpy`` of the package's
``__main__``: an uncaught exception prints its traceback and exits 1), with its own
environment, working directory and stdout/stderr files. The answer is one JSON line:
``{"rc", "stdout", "stderr", "timed_out"}``. A child that outlives its timeout is killed.

The bad-profile corpus runs ~60 files x 9 command lines: one interpreter start per run would
take minutes on the shared 2-core machine; a fork takes milliseconds.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import tempfile
import time
import traceback

import jaraba_tui.actions.cli
import jaraba_tui.cli
import jaraba_tui.profile
import jaraba_tui.profile_check
import jaraba_tui.verify.cli  # noqa: F401  (imported before forking: the point of the driver)


def _child(job: dict[str, object], out: int, err: int) -> None:
    os.setsid()
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.chdir(str(job["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(job["env"]).items()})  # type: ignore[call-overload]
    sys.argv = ["jaraba-ops", *map(str, job["argv"])]  # type: ignore[call-overload]
    code = 1
    try:
        runpy.run_module("jaraba_tui", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        c = exc.code
        code = c if isinstance(c, int) else (0 if c is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run(job: dict[str, object]) -> dict[str, object]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            _child(job, out.fileno(), err.fileno())
        deadline = time.monotonic() + float(job.get("timeout", 30))  # type: ignore[arg-type]
        timed_out = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = -1
                break
            time.sleep(0.01)
        rc = os.waitstatus_to_exitcode(status) if status != -1 else -9
        out.seek(0)
        err.seek(0)
        return {
            "rc": rc,
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
            "timed_out": timed_out,
        }


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
