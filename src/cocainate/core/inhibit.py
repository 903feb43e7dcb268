"""``cocainate.inhibit()``: a with-block, an async with-block, or a decorator."""

import contextvars
import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, NoReturn, TypeVar

from .session import Session

if TYPE_CHECKING:
    from types import TracebackType

F = TypeVar("F", bound=Callable[..., Any])


class inhibit:
    """Keep the machine awake for a block or a function, then let go.

    ``with cocainate.inhibit(reason="training"): train()``; ``async with`` the same; or
    ``@cocainate.inhibit()`` on a function or coroutine function, which holds for each call.
    Takes :class:`Session`'s arguments (not ``handle_signals``). Entering returns the
    started :class:`Session`.

    In ``async with``, start and release run on the event loop's thread without awaiting,
    so a cancelled task cannot interrupt the release; each D-Bus call in them has a time
    limit (2 s to acquire, 1 s to release), which bounds how long the loop can be held up.

    One object may be entered by several threads or tasks at once, and nested: each entry
    gets a session of its own, and each exit releases the session its own thread or task
    entered (a context variable keeps them apart).
    """

    def __init__(self, *given: "NoReturn", **session: "Any") -> None:
        if given:  # @cocainate.inhibit, without its parentheses, passes the function here
            raise TypeError(
                "inhibit() takes keyword arguments only (reason=..., duration=...); "
                "as a decorator, write @cocainate.inhibit() with its parentheses"
            )
        Session(**session)  # check the arguments now, where the mistake is
        self._session_args = session
        self._active: contextvars.ContextVar[tuple[Session, ...]] = contextvars.ContextVar(
            "cocainate.inhibit", default=()
        )

    def __enter__(self) -> "Session":
        session = Session(**self._session_args).start()
        self._active.set((*self._active.get(), session))
        return session

    def __exit__(
        self,
        exc_type: "type[BaseException] | None",
        exc: "BaseException | None",
        tb: "TracebackType | None",
    ) -> None:
        *outer, session = self._active.get()
        self._active.set(tuple(outer))
        session.stop()

    async def __aenter__(self) -> "Session":
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: "type[BaseException] | None",
        exc: "BaseException | None",
        tb: "TracebackType | None",
    ) -> None:
        self.__exit__(exc_type, exc, tb)  # no await: cancellation cannot cut it short

    def __call__(self, func: "F") -> "F":
        args = self._session_args
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def run_async(*a: "Any", **k: "Any") -> "Any":
                async with inhibit(**args):
                    return await func(*a, **k)

            return run_async  # type: ignore[return-value]

        @functools.wraps(func)
        def run(*a: "Any", **k: "Any") -> "Any":
            with inhibit(**args):
                return func(*a, **k)

        return run  # type: ignore[return-value]
