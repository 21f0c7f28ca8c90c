"""The helper process (helper.py): jobs run there, in order, and their values come back; where it is gone, they
run here."""
import os
import time

import pytest

from dprk_timeline.helper import Helper


def echo(value):
    return os.getpid(), value


def fail(message):
    raise ValueError(message)


def test_jobs_run_in_the_helper_in_order_with_large_arguments_and_values_both_ways():
    helper = Helper()
    try:
        big = b"x" * (8 << 20)  # larger than a pipe holds: the second is sent while the first's value waits
        jobs = [helper.submit(echo, (n, big)) for n in range(3)]
        values = [job.result() for job in jobs]
    finally:
        helper.close()
    assert [value for _, value in values] == [(n, big) for n in range(3)]
    assert {pid for pid, _ in values} != {os.getpid()} and len({pid for pid, _ in values}) == 1


def test_a_failing_job_is_one_line_and_the_next_still_runs():
    helper = Helper()
    try:
        failing, next_one = helper.submit(fail, "no such record"), helper.submit(echo, 1)
        with pytest.raises(RuntimeError, match="fail failed in the helper process: ValueError: no such record"):
            failing.result()
        assert next_one.result()[1] == 1
    finally:
        helper.close()


def test_jobs_of_a_helper_that_is_gone_run_here():
    helper = Helper()
    helper.process.kill()
    helper.process.join()
    job = helper.submit(echo, "still done")
    assert job.result() == (os.getpid(), "still done")
    helper.close()


def test_backlog_counts_the_jobs_not_done_yet_and_wait_below_waits_for_them():
    helper = Helper()
    try:
        jobs = [helper.submit(time.sleep, 0.5) for _ in range(3)]
        assert helper.backlog() >= 2
        helper.wait_below(1)
        assert helper.backlog() == 0 and all(job.ready() for job in jobs)
    finally:
        helper.close()


def test_a_job_lets_go_of_its_arguments_once_done_or_once_sent_without_keeping_them():
    helper = Helper()
    try:
        kept, sent = helper.submit(echo, "kept"), helper.submit(echo, "sent", keep=False)
        assert kept.args == ("kept",) and sent.args is None  # sent: nothing here but the job
        assert kept.result()[1] == "kept" and sent.result()[1] == "sent"
        assert kept.args is None  # done: its arguments are not needed to run it here any more
    finally:
        helper.close()


def test_a_job_sent_without_its_arguments_is_none_when_the_helper_goes_before_it_is_done():
    helper = Helper()
    helper.submit(time.sleep, 5)
    lost = helper.submit(echo, "lost", keep=False)
    helper.process.kill()
    assert lost.result() is None and lost.done
    assert helper.process is None
    helper.close()
