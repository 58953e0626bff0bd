"""``FilesystemIOManager``, the default: pickles under ``$WHARF_HOME/storage``."""

from __future__ import annotations

import pickle
from typing import Any

from wharf._core.config import InitResourceContext
from wharf._core.contexts import InputContext, OutputContext
from wharf._core.history import wharf_home
from wharf._io.configurable import ConfigurableIOManagerFactory
from wharf._io.upath import UPathIOManager
from wharf.errors import AssetTypeError


class PickledObjectFilesystemIOManager(UPathIOManager):
    """Pickle each value to ``base_path/<asset key path>``, atomically."""

    extension = ""

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        try:
            payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            name = context.asset_key.to_user_string() if context.has_asset_key else "?"
            msg = (
                f"asset {name!r} returned a {type(obj).__name__} that {type(self).__name__} cannot "
                f"pickle ({exc}): expected a picklable value; the stored value is unchanged"
            )
            raise AssetTypeError(
                msg, asset=name, io_manager=type(self).__name__, expected="picklable value",
                got=type(obj).__name__,
            ) from exc  # fmt: skip
        with path.open("wb") as f:
            f.write(payload)

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        with path.open("rb") as f:
            return pickle.load(f)


class FilesystemIOManager(ConfigurableIOManagerFactory):
    """The default I/O manager: values pickled on the local disk.

    Without ``base_dir`` values go to ``$WHARF_HOME/storage`` (``.wharf/storage`` in the
    current folder), so a later run loads what an earlier one stored.

    Examples:
        >>> FilesystemIOManager(base_dir="/tmp/wharf-doc")
        FilesystemIOManager(base_dir='/tmp/wharf-doc')
    """

    base_dir: str | None = None

    def create_io_manager(self, context: InitResourceContext) -> PickledObjectFilesystemIOManager:
        base = self.base_dir if self.base_dir is not None else str(wharf_home() / "storage")
        return PickledObjectFilesystemIOManager(base_path=base)
