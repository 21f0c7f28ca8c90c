"""A helper process: the build's second core.

A Helper is forked when it is made (before the log is read, while the process is small, so that it shares
none of the replayed state and its memory is its own). It runs the jobs it is sent, one at a time and in
order: a module-level function of this package and its arguments, both carried by pickle. This process
goes on meanwhile, and asks for each result when it needs it. Where fork is not available, or the helper is
gone (killed, out of memory), a job runs here when its result is asked for: the same function on the same
arguments, so the outputs are the same either way.
"""
from __future__ import annotations

import os


class Job:
    def __init__(self, helper: "Helper", function, args: tuple):
        self.helper, self.function, self.args = helper, function, args
        self.done, self.value = False, None

    def result(self):
        """The function's value (waits for the helper; raises RuntimeError if the function failed there)."""
        if not self.done:
            self.helper.wait_for(self)
        return self.value

    def ready(self) -> bool:
        """Would result() give the value without waiting for the helper?"""
        return self.helper.ready(self)


class Helper:
    def __init__(self):
        import multiprocessing

        self.process, self.pending = None, []
        if "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            # one pipe each way: the helper takes jobs off its pipe as they come (a thread of its own), so that
            # a job sent while it sends a result never leaves both processes waiting on each other
            jobs, self.jobs = context.Pipe(duplex=False)
            self.results, results = context.Pipe(duplex=False)
            for pipe in (jobs, results):
                _widen(pipe)
            self.process = context.Process(target=_serve, args=(jobs, results), daemon=True)
            self.process.start()
            jobs.close()
            results.close()

    def submit(self, function, *args, keep: bool = True) -> Job:
        """Send a job. keep=False: once sent, the job lets go of its arguments (large ones go at once), and if
        the helper is gone before it is done, its result is None rather than its function run here."""
        job = Job(self, function, args)
        if self.process is not None:
            try:
                self.jobs.send((function, args))
                self.pending.append(job)
                if not keep:
                    job.args = None
                return job
            except (OSError, ValueError):
                self.close()
        return job  # runs here when asked for

    def wait_for(self, job: Job) -> None:
        while job in self.pending:
            self._receive()
        if not job.done:
            if job.args is None:  # (sent without keeping its arguments: nothing to run here; its value is None)
                job.done = True
            else:
                job.value, job.done, job.args = job.function(*job.args), True, None

    def ready(self, job: Job) -> bool:
        while job in self.pending and self.results.poll():
            self._receive()
        return job not in self.pending

    def backlog(self) -> int:
        """How many jobs sent are not done yet (taking in first the values that have come back)."""
        while self.pending and self.results.poll():
            self._receive()
        return len(self.pending)

    def wait_below(self, count: int) -> None:
        """Wait until fewer than count jobs sent are not done yet."""
        while len(self.pending) >= count:
            self._receive()

    def _receive(self) -> None:
        """The value of the first job sent and not yet answered."""
        first = self.pending[0]
        try:
            outcome, value = self.results.recv()
        except (EOFError, OSError):  # the helper is gone: what it had still to do is done here when asked
            self.close()
            return
        self.pending.pop(0)
        if outcome == "error":
            raise RuntimeError(f"{first.function.__name__} failed in the helper process: {value}")
        first.value, first.done = value, True
        first.args = None  # needed only to run it here: large arguments (rows, keys) go once it is done

    def close(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.process = None
        self.pending = []


# What a pipe holds at most, where the system lets it be set (Linux): a job's arguments of several megabytes
# then go across in a few reads, each of which the helper's thread that takes them in may wait a few
# milliseconds to do (while the helper works, its other thread holds the interpreter).
PIPE_BYTES = 1 << 20


def _widen(connection) -> None:
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except (ImportError, OSError):
        pass  # (not Linux, or above the system's limit: the default size works, more slowly)


def _serve(jobs, results) -> None:
    """In the helper: run each job as it comes, send back its value, until this process closes the pipe."""
    import queue
    import sys
    import threading

    # The thread that takes jobs in waits for the interpreter, which the one that runs them gives up every so
    # often; the sooner it does, the sooner a large job's next bytes are read, and the less the sender waits.
    sys.setswitchinterval(0.0005)
    waiting = queue.SimpleQueue()

    def take():
        try:
            while True:
                waiting.put(jobs.recv())
        except (EOFError, OSError):
            waiting.put(None)
    threading.Thread(target=take, daemon=True).start()
    try:
        while (job := waiting.get()) is not None:
            function, args = job
            try:
                results.send(("ok", function(*args)))
            except Exception as err:  # the parent reports it as one line
                results.send(("error", f"{type(err).__name__}: {err}"))
    except (EOFError, OSError):
        pass
    finally:
        os._exit(0)  # nothing to flush; no teardown of what the fork copied
