"""pytest fixtures built on the fakes and snapshots: ``replay_chat_model`` (and its
``replay_chat_model_factory``) and ``event_snapshot``. The plugin re-exports them, so
pytest finds them; LangChain and syrupy are imported lazily (they are heavy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .errors import MissingExtraError, require_extras

if TYPE_CHECKING:  # loaded with the first cassette, not at pytest's start-up
    from .wire.session import Session


def _require_langchain(fixture: str) -> None:
    """Fail the test with the extra to install, in one line (the message is all there is to say)."""
    try:
        require_extras(f"the {fixture} fixture", "langchain")
    except MissingExtraError as exc:
        message = f"{type(exc).__name__}: {exc}"
    else:
        return
    pytest.fail(message, pytrace=False)  # outside the except: no "during handling" chain


@pytest.fixture
def replay_chat_model_factory() -> Any:
    """The real chat model ``replay_chat_model`` records from: override it to return one,
    e.g. ``ChatAnthropic(model="claude-3-5-sonnet-latest")``. It is only set up when the
    test's cassette records, so replay needs neither the provider's SDK nor its key."""
    return None


@pytest.fixture
def replay_chat_model(request: pytest.FixtureRequest, replay_cassette: Session) -> Any:
    """A chat model for this test's cassette: while it records (``--replay-mode=once`` with
    no cassette yet, ``new_episodes``, ``all``, ``rewrite``), the real model of
    ``replay_chat_model_factory``, its HTTP traffic recorded into the cassette; otherwise a
    ``ReplayChatModel`` replaying the cassette's chat streams at the message level."""
    _require_langchain("replay_chat_model")
    session = replay_cassette
    if session.can_record:
        model = request.getfixturevalue("replay_chat_model_factory")
        if model is None:
            pytest.fail(
                f"replay_chat_model has no real model to record {session.path} from (mode {session.mode!r}).\n"
                "  Override the replay_chat_model_factory fixture (in conftest.py) to return one, e.g. "
                "ChatAnthropic(model=\"claude-3-5-sonnet-latest\"), and set its API key while recording.",
                pytrace=False)
        return model
    if not session.existed:
        pytest.fail(
            f"replay_chat_model: no cassette to replay at {session.path} (mode {session.mode!r}).\n"
            "  Record it once: run pytest --replay-mode=once with the provider's API key set; the "
            "replay_chat_model_factory fixture names the real model to record from.", pytrace=False)
    from .langchain.fakes import ReplayChatModel
    from .langchain.fakes.wire import CHAT_APIS

    model = ReplayChatModel.from_cassette(session.cassette)
    chat = [n for n, i in enumerate(session.cassette.interactions) if (i.provider, i.api) in CHAT_APIS]
    session.index.mark_used(chat)  # replayed at the message level: not "unused"
    return model


@pytest.fixture
def event_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's ``snapshot``, writing one-event-per-line ``.events.txt`` files.

    ``assert event_snapshot == events`` takes raw ``astream_events`` output or normalised events,
    and graph stream parts (raw, or normalised by ``normalize_graph_stream``).
    """
    _require_langchain("event_snapshot")  # before syrupy's fixture is asked for: it may not exist
    from .langchain.snapshot import event_snapshot as use

    return use(request.getfixturevalue("snapshot"))
