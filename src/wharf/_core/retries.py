"""Retries: ``RetryPolicy`` (with ``Backoff`` and ``Jitter``), ``RetryRequested`` and ``Failure``.

A step whose body raises is run again while its policy allows (an asset's own ``retry_policy``,
else its job's ``op_retry_policy``); ``RetryRequested`` asks for a retry without a policy;
``Failure(allow_retries=False)`` is never retried. Every attempt is recorded. A failed attempt
stores nothing, so the previously stored value stays readable until an attempt succeeds.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wharf.errors import DefinitionError

__all__ = ["Backoff", "Failure", "Jitter", "RetryPolicy", "RetryRequested", "check_retry_policy"]


class Backoff(enum.Enum):
    """How the delay grows between attempts."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(enum.Enum):
    """Randomness added to the delay: ``FULL`` (0 to the delay) or ``PLUS_MINUS`` (±half)."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


@dataclass(frozen=True)
class RetryPolicy:
    """Run a failed step again, up to ``max_retries`` times, ``delay`` seconds apart.

    Examples:
        >>> policy = RetryPolicy(max_retries=3, delay=0.5, backoff=Backoff.EXPONENTIAL)
        >>> [policy.delay_before(n) for n in (1, 2, 3)]
        [0.5, 1.5, 3.5]
    """

    max_retries: int = 1
    delay: float | None = None
    backoff: Backoff | None = None
    jitter: Jitter | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or isinstance(self.max_retries, bool):
            self._bad("max_retries", "an int >= 0", self.max_retries)
        if self.max_retries < 0:
            self._bad("max_retries", "an int >= 0", self.max_retries)
        if self.delay is not None and (
            not isinstance(self.delay, int | float)
            or isinstance(self.delay, bool)
            or self.delay < 0
        ):
            self._bad("delay", "seconds >= 0 or None", self.delay)
        if self.backoff is not None and not isinstance(self.backoff, Backoff):
            self._bad("backoff", "Backoff.LINEAR or Backoff.EXPONENTIAL", self.backoff)
        if self.jitter is not None and not isinstance(self.jitter, Jitter):
            self._bad("jitter", "Jitter.FULL or Jitter.PLUS_MINUS", self.jitter)
        if (self.backoff or self.jitter) and self.delay is None:
            self._bad("delay", "a delay for backoff/jitter to act on", None)

    @staticmethod
    def _bad(name: str, expected: str, got: Any) -> None:
        msg = f"RetryPolicy({name}={got!r}): expected {expected}"
        raise DefinitionError(msg, expected=expected, got=repr(got))

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        base = float(self.delay or 0.0)
        if self.backoff is Backoff.LINEAR:
            base *= attempt
        elif self.backoff is Backoff.EXPONENTIAL:
            base *= 2**attempt - 1
        if self.jitter is Jitter.FULL:
            base *= random.random()
        elif self.jitter is Jitter.PLUS_MINUS:
            base += base * (random.random() - 0.5)
        return max(base, 0.0)


class RetryRequested(Exception):  # noqa: N818 - Dagster's name
    """Raised from a body to ask for the step to run again (``max_retries`` times at most)."""

    def __init__(self, max_retries: int | None = 1, seconds_to_wait: float | None = None) -> None:
        super().__init__(f"retry requested (max_retries={max_retries})")
        self.max_retries = max_retries or 0
        self.seconds_to_wait = seconds_to_wait


class Failure(Exception):  # noqa: N818 - Dagster's name
    """Raised from a body to fail the step with a description and metadata (shown with the
    failure); ``allow_retries=False`` stops a retry policy from running it again."""

    def __init__(
        self,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        allow_retries: bool = True,
    ) -> None:
        super().__init__(description or "the step reported a failure")
        self.description = description
        self.metadata = dict(metadata or {})
        self.allow_retries = allow_retries


def check_retry_policy(policy: Any, where: str) -> RetryPolicy | None:
    """``policy`` if it is None or a :class:`RetryPolicy`; else an error naming ``where``."""
    if policy is None or isinstance(policy, RetryPolicy):
        return policy
    msg = (
        f"{where}: retry_policy={policy!r} is not a RetryPolicy: "
        "expected RetryPolicy(max_retries=...)"
    )
    raise DefinitionError(msg, expected="a RetryPolicy", got=type(policy).__name__)


def retry_wait(exc: BaseException, policy: RetryPolicy | None, retries_done: int) -> float | None:
    """Seconds to wait before running again after ``exc``, or None when it must not run again."""
    if isinstance(exc, RetryRequested):
        if retries_done >= exc.max_retries:
            return None
        return float(exc.seconds_to_wait or 0.0)
    if policy is None or retries_done >= policy.max_retries:
        return None
    if isinstance(exc, Failure) and not exc.allow_retries:
        return None
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit, a library's panic
        return None
    return policy.delay_before(retries_done + 1)
