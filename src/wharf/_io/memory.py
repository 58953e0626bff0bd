"""``InMemoryIOManager``: values kept in a dict for the life of the manager (for tests)."""

from __future__ import annotations

from typing import Any

from wharf._core.contexts import InputContext, OutputContext
from wharf._io.base import IOManager
from wharf.errors import StoredValueNotFoundError


class InMemoryIOManager(IOManager):
    """Keeps values in memory, keyed by asset key (and partition). Not shared across processes.

    Examples:
        >>> from wharf import build_input_context, build_output_context
        >>> m = InMemoryIOManager()
        >>> m.handle_output(build_output_context(asset_key="a"), [1, 2])
        >>> m.load_input(build_input_context(asset_key="a"))
        [1, 2]
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[tuple(context.get_identifier())] = obj

    def load_input(self, context: InputContext) -> Any:
        ident = tuple(context.get_identifier())
        try:
            return self.values[ident]
        except KeyError:
            name = "/".join(ident)
            msg = (
                f"asset {name!r} has no value in InMemoryIOManager: expected it to be "
                "materialized earlier in the same process, got nothing stored"
            )
            raise StoredValueNotFoundError(
                msg, asset=name, io_manager="InMemoryIOManager", expected="a stored value", got="nothing"
            ) from None
