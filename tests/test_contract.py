"""The contract every mechanism of every platform keeps, checked on each one here: what it
declares (its name, title, and for each mode what it blocks; display mode never blocks a
suspend a person asks for), what it lists for ``cocainate status`` when its service
cannot be asked, and a release before any acquire, or twice, that does nothing and never
raises. macOS's and Windows' mechanisms are loaded here on Linux as they are (their OS
calls are made only when they acquire), so no fake is needed for these checks; what they
do when they hold is tested against fakes of IOKit and kernel32 (test_macos_fake.py,
test_windows_fake.py) and under Wine (test_wine.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cocainate import Blocks, MechanismError, Mode
from cocainate.bindings.buses import Resources
from cocainate.mechanisms import Entry, Mechanism, entries

EVERY = [
    (platform, entry) for platform in ("linux", "darwin", "win32") for entry in entries(platform)
]


def named(pair: tuple[str, Entry]) -> str:
    return f"{pair[0]}-{pair[1].name}"


@pytest.fixture(params=EVERY, ids=[named(pair) for pair in EVERY])
def mechanism_class(request: pytest.FixtureRequest) -> type[Mechanism]:
    _platform, entry = request.param
    cls: type[Mechanism] = entry.load()
    assert cls.name == entry.name
    return cls


def test_it_declares_what_it_is_and_blocks(mechanism_class: type[Mechanism]) -> None:
    cls = mechanism_class
    assert isinstance(cls.title, str) and cls.title
    assert cls.blocks and set(cls.blocks) <= set(Mode)
    for mode, blocks in cls.blocks.items():
        assert blocks and blocks <= set(Blocks), (mode, blocks)
    display = cls.blocks.get(Mode.DISPLAY, frozenset())
    assert Blocks.SUSPEND not in display  # never what a person asks for, in display mode
    for method in ("probe", "acquire", "release"):
        assert getattr(cls, method) is not getattr(Mechanism, method), method
    if cls.fallback_for is not None:
        platforms = [p for p, e in EVERY if e.name == cls.name]
        assert cls.fallback_for in [e.name for p, e in EVERY if p in platforms]


class Unanswered:
    """An asker whose every call fails, as against a bus that is not there."""

    def begin(self, service: str) -> None: ...

    def call(self, *args: Any, **kwargs: Any) -> Any:
        raise MechanismError("the test's bus is not there")


def test_it_lists_what_it_can_and_a_failure_is_its_words(
    mechanism_class: type[Mechanism], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # an empty registry
    words, lines = mechanism_class.inhibitors(Unanswered())  # type: ignore[arg-type]
    assert isinstance(words, str) and words
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)
    if mechanism_class.registered:
        assert words.startswith("none held by cocainate; ")
    elif words not in ("it cannot list who holds it",) and " lists them: " not in words:
        assert words == "the test's bus is not there"


def test_a_release_before_an_acquire_and_twice_does_nothing(
    mechanism_class: type[Mechanism],
) -> None:
    resources = Resources()
    try:
        mechanism = mechanism_class(resources)
        mechanism.release()
        mechanism.release()
        finish = mechanism.start_release()
        assert finish is None or finish() is None
        assert mechanism.problems == []
    finally:
        resources.close()
