"""Admission: how many evaluations run, how many wait, and how long one may take.

Evaluating a case is CPU-bound Python, so each worker runs evaluations on a small pool of
threads (one by default: more only contend for the interpreter lock) and keeps its event loop
free to accept connections, answer ``/healthz`` and time requests out. At most
``max_in_flight`` evaluations run and ``max_queue`` wait; the next one is refused at once with 429 (a worker that queued without bound would answer everything late
instead of some things now). Each request has ``request_timeout`` seconds from admission to
answer, waiting included; past it the client gets 503. Python cannot stop a thread, so an
evaluation that timed out finishes in the background (its step budget, --max-steps, keeps it short)
and its thread slot is freed only then: a timed-out request never lets more work run than the
pool allows.

With ``inline_steps`` (``policy serve --inline-steps``, 1,000 by default), a small evaluation
that arrives while the worker is idle runs on the event loop at once, bounded by that many
steps, and only one that needs more goes to the thread (see :meth:`Admission.try_inline`): the
common case saves the hand-over, and the loop is never deaf for longer than the inline budget.

With ``evaluation_thread=False`` (``policy serve --no-evaluation-thread``) evaluations run on the
event loop itself: no hand-over to a thread and back, which measured 0.1 to 0.5 ms of CPU less
per request depending on the machine's load (benchmarks/README.md), at a price: while one evaluation runs, the worker
answers nothing else (not ``/healthz``, not a 429), nothing queues (a busy worker simply reads no
new request until it is done, and the kernel holds the connections), and the timeout cannot cut
an evaluation short. The step budget (``--max-steps``) is then what bounds how long the worker is
deaf: keep it small.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from ..errors import codes
from . import problems

#: Largest body (bytes) of a request that may be evaluated on the event loop: reading and
#: checking a case costs CPU in proportion to its size, before any step is counted.
INLINE_BYTES = 64_000


class Admission:
    """The thread pool, the bounded queue in front of it, and the per-request deadline."""

    def __init__(self, max_in_flight: int, max_queue: int, timeout: float,
                 evaluation_thread: bool = True, inline_steps: int = 0):
        self.evaluation_thread = evaluation_thread
        self.inline_steps = inline_steps
        self.max_in_flight = max_in_flight
        self.max_queue = max_queue
        self.timeout = timeout
        self._executor: ThreadPoolExecutor | None = None
        self._slots = asyncio.Semaphore(max_in_flight)
        self.waiting = 0
        self.running = 0

    @property
    def saturated(self) -> bool:
        """No thread free and the queue full: the next evaluation would get 429."""
        return self._slots.locked() and self.waiting >= self.max_queue

    def try_inline(self, function, args: tuple, max_steps: int, size: int):
        """``function(*args, budget)`` on the event loop when that is cheap and bounded, else None
        (the caller then runs it with :meth:`run`).

        Taken when evaluations run on threads, none is running or waiting (an evaluation on
        the loop would otherwise contend with the thread, and jump the queue), and the body is at
        most :data:`INLINE_BYTES`. The budget is ``inline_steps`` (at most ``max_steps``): the
        loop is deaf for at most that many steps. An evaluation that needs more stops at the
        budget (E441) and None is answered, so that it runs again on the thread with the whole
        ``max_steps``: a few milliseconds lost on a rare large case, against the hand-over to
        the thread and back saved on every ordinary one.
        """
        if not self.evaluation_thread or not self.inline_steps or size > INLINE_BYTES \
                or self.running or self.waiting or self._slots.locked():
            return None
        budget = min(self.inline_steps, max_steps)
        self.running += 1
        try:
            return function(*args, budget)
        except problems.ServiceError as exc:
            if exc.code == codes.STEP_BUDGET and budget < max_steps:
                return None
            raise
        finally:
            self.running -= 1

    async def run(self, function, *args, wait: bool = False):
        """``function(*args)`` on an evaluation thread, within the deadline.

        ``wait=True`` (batch lines) waits for a slot however long the queue is, since the batch
        is already being answered; its time limit still applies to each line.
        """
        if not self.evaluation_thread:      # on the event loop: nothing else runs meanwhile
            self.running += 1
            try:
                return function(*args)
            finally:
                self.running -= 1
        if not wait and self._slots.locked() and self.waiting >= self.max_queue:
            raise problems.ServiceError(problems.SATURATED, f"{self.waiting} evaluations are "
                                        "already waiting in this worker; retry in a moment.",
                                        headers={"Retry-After": "1"})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        if self._slots.locked():
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.timeout)
            except TimeoutError:
                raise self._timed_out() from None
            finally:
                self.waiting -= 1
        else:                               # a thread is free: take it without a timer
            await self._slots.acquire()
        self.running += 1
        if self._executor is None:          # made on first use, again after close()
            self._executor = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="policy-eval")
        future = loop.run_in_executor(self._executor, function, *args)
        future.add_done_callback(self._release)
        try:
            # shield: the evaluation is not cancelled at the deadline (a thread cannot be
            # stopped); it finishes in the background and frees its slot then (_release).
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(future)
        except TimeoutError:
            raise self._timed_out() from None

    def _release(self, future) -> None:
        self.running -= 1
        self._slots.release()
        if not future.cancelled():
            future.exception()      # retrieved here, so a late failure is not logged as lost

    def _timed_out(self) -> problems.ServiceError:
        return problems.ServiceError(problems.EVALUATION_TIMEOUT, f"The evaluation did not "
                                     f"finish within {self.timeout:g} seconds.",
                                     headers={"Retry-After": "1"})

    def close(self) -> None:
        """Stop the threads (at shutdown); evaluations still running finish first."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
