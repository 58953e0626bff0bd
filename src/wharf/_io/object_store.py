"""Tables as Parquet, every other value pickled: one object per asset on any fsspec URL.

:class:`ParquetOrPickleIOManager` is the engine behind ``FilesystemIOManager`` (local paths),
:class:`ObjectStoreIOManager` (any URL) and the Dagster-named presets in :mod:`wharf.s3`,
:mod:`wharf.gcs` and :mod:`wharf.adls2`. A table-like value (pandas, polars, pyarrow, a DuckDB
relation) streams to ``<key>.parquet`` batch by batch through Arrow; anything else is pickled to
``<key>``. Loading reads the ``.parquet`` object as the input's annotation asks, with only the
``columns`` an ``AssetIn`` asks for, and falls back to the pickle (so objects written by
Dagster's pickle managers still load).

**How a write stays atomic.** Local paths: a temp file in the target folder, then
``os.replace``. Object stores: measured against moto 5.2 (s3fs 2026.9), fake-gcs-server 1.54
(gcsfs 2026.10) and Azurite 3.35 (adlfs 2026.8), an exception raised inside
``with fs.open(url, "wb")`` *publishes the partial object* on all three, for a 100-byte and a
12 MiB write alike: fsspec's ``__exit__`` calls ``close()``, which uploads the buffer and
completes the multipart upload (S3), finishes the resumable upload (GCS) or commits the staged
block list (Azure). So nothing streams into the final object. The value is first written to a
local spool (in memory up to 64 MiB, beyond that a temp file in ``$TMPDIR``, so tables larger
than memory still stream), then published by one ``pipe_file`` / ``put_file``: a single PUT
below the multipart threshold, otherwise a multipart / resumable / block-list upload that
becomes visible only with its final complete or commit request (s3fs aborts the multipart
upload when a part fails). A source stream that raises, or a value that cannot be pickled,
never reaches the store; an upload that fails or is cut off leaves the previous object
readable (tests kill or freeze each server in the middle of a multipart upload). A writer
killed mid-upload leaves an unfinished S3 multipart upload; a later write below the same base
path aborts it once it has been idle longer than a live writer could be
(:meth:`ParquetOrPickleIOManager.abandoned_after`).

The spool costs nothing measurable: in ``bench/object_stores.py`` (1e6 rows, 19 MiB of
Parquet, local servers) a store through wharf took 0.86x, 0.72x and 0.96x the time of
``pq.write_table`` streamed into ``fs.open(url, "wb")`` on S3, GCS and Azure. A spool on disk
instead of in memory cost ~25 ms more per 20 MiB, hence memory first.

**Retries and errors.** Each client retries transient failures (5xx, timeouts, throttling,
dropped connections) a bounded number of times with exponential back-off, as configured by
the filesystem builders in the store modules; an upload also has an overall deadline, since
a server that stops reading mid-body is caught by no request timeout
(:meth:`ParquetOrPickleIOManager.upload_deadline`). What still fails becomes one
:class:`~wharf.errors.StorageError` naming the asset, the URL and the client's last error,
with any configured secret masked out.

Examples:
    >>> import pandas as pd
    >>> import wharf as dg
    >>> @dg.asset
    ... def prices() -> pd.DataFrame:
    ...     return pd.DataFrame({"sku": ["a", "b"], "eur": [9.5, 3.0]})
    >>> io = ObjectStoreIOManager(base_path="memory://doc-bucket/prices")
    >>> result = dg.materialize([prices], resources={"io_manager": io})
    >>> meta = result.asset_materializations_for_node("prices")[0].metadata
    >>> meta["uri"].value, meta["row_count"].value
    ('memory://doc-bucket/prices/prices.parquet', 2)
"""

from __future__ import annotations

import contextlib
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import Field

from wharf._core.config import InitResourceContext
from wharf._core.contexts import InputContext, OutputContext
from wharf._core.env import EnvVar
from wharf._core.keys import AssetKey
from wharf._core.partitioning.definitions import MultiPartitionKey
from wharf._core.results import MetadataValue
from wharf._core.table_metadata import standard_table_metadata
from wharf._core.typecheck import is_unannotated, strip_optional
from wharf._core.versions import HashingFile, fingerprint_reader
from wharf._deps import require
from wharf._frames.base import export
from wharf._frames.registry import adapter_for_annotation, adapter_for_load
from wharf._io import kept_versions as kv
from wharf._io import partitioned
from wharf._io.blob_names import case_insensitive, check_blob_outputs, check_partition_apart
from wharf._io.configurable import ConfigurableIOManagerFactory
from wharf._io.object_clients import (
    FILESYSTEMS,
    SECRET_OPTIONS,
    MaskedSecrets,
    client_errors,
    filesystem_for,
    sweep_abandoned_uploads,
)
from wharf._io.parquet_files import load_parquet, read_dataset, write_parquet
from wharf._io.upath import UPathIOManager
from wharf._stores.blob import blob_store_for
from wharf.errors import AssetTypeError, DefinitionError, StorageError, WharfError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from wharf._core.stored_versions import StoredVersion

__all__ = [
    "FILESYSTEMS",
    "BlobIOManagerFactory",
    "MaskedSecrets",
    "ObjectStoreIOManager",
    "ParquetOrPickleIOManager",
    "client_errors",
    "filesystem_for",
]

T = TypeVar("T")


class ParquetOrPickleIOManager(UPathIOManager):
    """Tables as Parquet at ``<key path>.parquet``; every other value pickled at ``<key path>``.

    Args:
        base_path: a local folder or any fsspec URL (``s3://bucket/prefix``, ``gs://``,
            ``abfs://container/prefix``, ``memory://``, ...).
        filesystem: the fsspec filesystem for a remote ``base_path``; by default the one
            universal-pathlib picks for the URL.
        secrets: credential values to mask in error messages.
        upload_options: extra keyword arguments for the filesystem's ``put_file`` (e.g. the
            multipart ``chunksize`` of s3fs and gcsfs).
    """

    extension = ""
    #: bytes per second an upload must at least achieve (see :meth:`upload_deadline`)
    min_upload_rate: float = 2**20
    #: values up to this size are spooled in memory before their upload, larger ones on disk
    spool_in_memory: int = 64 * 2**20
    #: seconds without a new part after which an unfinished upload below the base path is
    #: aborted as a killed writer's (at least; see :meth:`abandoned_after`)
    abandoned_upload_after: float = 600.0

    def __init__(
        self,
        base_path: Any = None,
        *,
        filesystem: Any = None,
        secrets: Iterable[str] = (),
        upload_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(base_path)
        self._fs = filesystem
        self._secrets = tuple(s for s in secrets if s)
        self.upload_options = dict(upload_options or {})
        self._blob_store = blob_store_for(
            self._base_path, filesystem, secrets=self._secrets, policy=self
        )
        #: keep the last N values of each asset (partition) (:mod:`wharf._io.kept_versions`);
        #: None: only the current one, at Dagster's path
        self.keep_versions: int | None = None

    # -- where things are -----------------------------------------------------------------
    def check_outputs(
        self,
        outputs: list[tuple[AssetKey, Mapping[str, Any]]],
        partitions: Mapping[AssetKey, Any] | None = None,
    ) -> None:
        """Refuse, before a run, two values this manager would store in one place (asset
        ``orders`` and asset ``orders.parquet``, partitions ``p`` and ``p.parquet``, names
        that differ in case on a file system that ignores it) and names too long for it."""
        local, versions = self.blob_store.local_root, self.keep_versions is not None
        check_blob_outputs(
            self.manager_name, outputs, partitions or {}, local_base=local, versions=versions
        )

    def _check_partition_apart(self, context: OutputContext, base: Any) -> None:
        """A partition key no other key of its asset shares a place with (dynamic keys are
        known only when the run writes them)."""
        from wharf._core.partitioning.definitions import DynamicPartitionsDefinition

        pdef = context.asset_partitions_def if context.has_asset_partitions else None
        if not isinstance(pdef, DynamicPartitionsDefinition):
            return  # static and time-window keys were checked before the run (check_outputs)
        key = context.asset_partition_key
        if not isinstance(key, str) or isinstance(key, MultiPartitionKey):
            return
        try:
            keys = pdef.get_partition_keys(dynamic_partitions_store=context.instance)
        except Exception:  # no instance to ask for dynamic keys
            return
        root = self.blob_store.local_root
        fold = root is not None and case_insensitive(root)
        asset = context.asset_key.to_user_string()
        check_partition_apart(self.manager_name, asset, key, keys, fold=fold)

    def uri(self, path: Any) -> str:
        """The URL of ``path`` (``file://`` for local paths)."""
        return self.blob_store.location(path)

    # -- storing --------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        from wharf._frames import adapter_for_value
        from wharf._io.table_options import refuse_write_modes

        refuse_write_modes(context, self)
        if partitioned.store_each_partition(context, obj, self.handle_output, self.manager_name):
            return

        start = time.perf_counter()
        base = self._get_path(context)
        table_path = base.with_name(base.name + ".parquet")
        pickle_path = base
        adapter = adapter_for_value(obj)
        meta: dict[str, Any] = {}
        self._check_partition_apart(context, base)
        self.replace_unpartitioned(context, base)
        if self.keep_versions is not None:  # a file of its own, published by the pointer
            folder = kv.folder_of(base)
            kept = self._kept(context, folder) or []
            number, stem = kv.next_version(kept)
            table_path, pickle_path = folder / f"{stem}.parquet", folder / f"{stem}.pickle"
            meta["stored_version"] = MetadataValue.int(number)
        if adapter is None:
            target, stale = pickle_path, table_path
            _, size = self.publish(
                context, pickle_path, lambda p: self.dump_to_path(context, obj, p)
            )
        else:
            target, stale = table_path, base
            name = context.asset_key.to_user_string() if context.has_asset_key else base.name
            reader = export(adapter, obj, asset=name, io_manager=self.manager_name)
            reader = fingerprint_reader(reader)  # hashed as the Parquet writer pulls it

            def write(p: Any) -> dict[str, Any]:
                try:
                    return write_parquet(reader, p, frame=adapter.name)
                except WharfError:
                    raise
                except Exception as exc:  # mostly the value's own stream (a lazy query)
                    msg = (
                        f"{self.manager_name} could not store asset {name!r}: writing its "
                        f"Parquet failed ({type(exc).__name__}: {exc}); the previously stored "
                        "value is unchanged"
                    )
                    raise StorageError(
                        msg, asset=name, io_manager=self.manager_name,
                        expected="a data stream that completes", got=type(exc).__name__,
                    ) from exc  # fmt: skip

            written, size = self.publish(context, table_path, write)
            meta["row_count"] = MetadataValue.int(written["rows"])
            meta["schema"] = MetadataValue.table_schema(written["schema"])
        if self.keep_versions is None:
            self.remove(context, stale)
        else:
            self._publish_version(context, base, kept, kv.KeptVersion(number, target.name,
                                                                     context.run_id))  # fmt: skip
        meta["path"] = MetadataValue.path(self.blob_store.shown(target))
        meta["uri"] = MetadataValue.url(self.uri(target))
        meta["bytes"] = MetadataValue.int(size)
        meta["duration_s"] = MetadataValue.float(round(time.perf_counter() - start, 6))
        rows, schema = meta.get("row_count"), meta.get("schema")
        meta.update(
            standard_table_metadata(
                rows.value if rows is not None else None,
                schema.value if schema is not None else None,
                uri=self.uri(target),
            )
        )
        context.add_output_metadata({**meta, **self.get_metadata(context, obj)})

    def write_atomically(
        self,
        context: OutputContext,
        obj: Any,
        path: Any,
        dump: Callable[[OutputContext, Any, Any], None],
    ) -> None:
        """Call ``dump`` so that ``path`` shows either the old value or the complete new one."""
        self.replace_unpartitioned(context, path)
        self.publish(context, path, lambda p: dump(context, obj, p), in_memory=False)

    def publish(
        self,
        context: OutputContext,
        path: Any,
        write: Callable[[Any], T],
        *,
        in_memory: bool = True,
    ) -> tuple[T, int]:
        """Run ``write(p)``, then make what it wrote the value at ``path`` in one step
        (:meth:`BlobStore.put <wharf._stores.blob.BlobStore.put>`).

        ``p`` has ``open("wb")``; for an object store it is kept in memory up to
        :attr:`spool_in_memory` bytes (then in a temp file), unless ``in_memory`` is false:
        then it is a real local ``Path``, for code that needs one. Returns what ``write``
        returned and the number of bytes stored.
        """
        store = self.blob_store
        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        store.check(path, asset=name, manager=self.manager_name)
        return self.attempt(
            context, "upload", path, lambda: store.put(path, write, real_file=not in_memory)
        )

    def after_upload(self, fs: Any) -> None:
        """After each upload: abort the unfinished uploads killed writers left below the base
        path (at most once a minute, :meth:`abandoned_after`)."""
        base, limit = self.base_path, self.abandoned_after
        sweep_abandoned_uploads(base.protocol, fs, base.path, lambda part: limit(fs, part))

    # -- kept versions (keep_versions=N) -------------------------------------------------
    def _kept(self, context: InputContext | OutputContext, folder: Any) -> list[Any] | None:
        """The versions the pointer in ``folder`` lists, newest first; None: no pointer."""
        pointer = folder / kv.POINTER
        try:
            data = self.attempt(
                context, "read the versions of", pointer,
                lambda: self.blob_store.get(pointer), passthrough=_GONE,
            )  # fmt: skip
        except FileNotFoundError:
            return None
        name = context.asset_key.to_user_string() if context.has_asset_key else folder.name
        return kv.parse_pointer(data, asset=name, io_manager=self.manager_name,
                                where=self.uri(pointer))  # fmt: skip

    def _publish_version(
        self, context: OutputContext, base: Any, kept: list[Any], new: Any
    ) -> None:
        """Make ``new`` (already written) current by replacing the pointer, then delete the
        versions beyond the newest :attr:`keep_versions` and the value at Dagster's path."""
        assert self.keep_versions is not None
        folder = kv.folder_of(base)
        listed = [new, *kept]
        now, dropped = listed[: self.keep_versions], listed[self.keep_versions :]
        data = kv.pointer_bytes(now)

        def write(p: Any) -> None:
            with p.open("wb") as f:
                f.write(data)

        self.publish(context, folder / kv.POINTER, write)
        for old in dropped:
            self.remove(context, folder / old.file)
        for stale in (base, base.with_name(base.name + ".parquet")):
            self.remove(context, stale)

    def _load_kept(self, context: InputContext, base: Any) -> Any:
        """The value the pointer names (``context.stored_version``: as of that version); no
        pointer yet: the value at Dagster's path (written before keep_versions was on)."""
        folder = kv.folder_of(base)
        kept = self._kept(context, folder)
        if kept is None and context.stored_version is None:
            return self._load_at(context, base)
        name = context.asset_key.to_user_string() if context.has_asset_key else base.name
        where = self.uri(folder / kv.POINTER)
        found = kv.pick_as_of(kept or [], context.stored_version, asset=name,
                              io_manager=self.manager_name, where=where)  # fmt: skip
        path = folder / found.file
        if found.kind == "parquet":
            return self.load_table(context, path)
        return self.load_from_path(context, path)

    def stored_versions(
        self, key: AssetKey, metadata: Mapping[str, Any] | None = None, *, partitioned: bool = False
    ) -> list[StoredVersion]:
        """The versions of ``key``'s value this manager keeps (``keep_versions``), newest
        first, of every partition when ``partitioned``; without keep_versions a
        ``StoredValueNotFoundError`` says it keeps none."""
        from wharf._core.contexts import InputContext
        from wharf._core.stored_versions import keeps_no_versions

        asset = key.to_user_string()
        if self.keep_versions is None:
            raise keeps_no_versions(asset, self.manager_name)
        context = InputContext(asset_key_or_none=key)
        base = self._base_path.joinpath(*key.path)
        found = [kv.as_stored(k, None) for k in self._kept(context, kv.folder_of(base)) or []]
        if partitioned:
            for folder, part in self._partition_folders(context, base):
                kept = self._kept(context, folder) or []
                found.extend(kv.as_stored(k, part) for k in kept)
        return sorted(found, key=lambda v: v.version, reverse=True)

    def _partition_folders(self, context: InputContext, base: Any) -> list[tuple[Any, str]]:
        """The versions folders below a partitioned asset's folder, with their partition."""
        suffix = ".versions/" + kv.POINTER
        names = self.attempt(context, "list the versions of", base,
                             lambda: self.blob_store.find(base), passthrough=_GONE)  # fmt: skip
        return [
            (base.joinpath(*name[: -len(kv.POINTER) - 1].split("/")), name[: -len(suffix)])
            for name in names
            if name.endswith(suffix)
        ]

    def abandoned_after(self, fs: Any, part: int) -> float:
        """Seconds without a new part after which an unfinished upload whose largest part has
        ``part`` bytes is a killed writer's: :attr:`abandoned_upload_after`, or more if a live
        writer could take longer to send its next parts (:meth:`upload_deadline`)."""
        part = part or int(self.upload_options.get("chunksize", 50 * 2**20))
        at_once = max(1, int(getattr(fs, "max_concurrency", 1) or 1))
        return max(self.abandoned_upload_after, self.upload_deadline(fs, part * at_once))

    def upload_deadline(self, fs: Any, size: int) -> float:
        """Seconds an upload of ``size`` bytes may take in all, retries included.

        Request timeouts only bound the wait for an answer: a server that stops reading in
        the middle of a request body would stall the upload for ever. So every upload also
        gets a deadline: the time the client may spend on one request with all its retries
        (``wharf_retry_budget``, set by wharf's filesystem builders: attempts x timeout plus
        the back-off sleeps; 5 minutes for other filesystems), plus the time to send ``size``
        bytes at :attr:`min_upload_rate`.
        """
        budget = float(getattr(fs, "wharf_retry_budget", 300.0))
        return budget + size / self.min_upload_rate

    def dump_to_path(self, context: OutputContext, obj: Any, path: Any) -> None:
        """Pickle ``obj`` to the (local) ``path``."""
        with path.open("wb") as f:
            try:
                pickle.Pickler(HashingFile(f), protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
            except OSError:
                raise
            except Exception as exc:
                raise self._unpicklable(context, obj, exc) from exc

    def _unpicklable(self, context: OutputContext, obj: Any, exc: Exception) -> AssetTypeError:
        name = context.asset_key.to_user_string() if context.has_asset_key else "?"
        msg = (
            f"asset {name!r} returned a {type(obj).__name__} that {self.manager_name} cannot "
            f"pickle ({exc}): expected a picklable value; the stored value is unchanged"
        )
        return AssetTypeError(
            msg, asset=name, io_manager=self.manager_name, expected="picklable value",
            got=type(obj).__name__,
        )  # fmt: skip

    def remove(self, context: OutputContext, path: Any) -> bool | None:
        """Delete ``path`` if it exists (the other form of a value that changed kind)."""
        return self.attempt(
            context, "delete the stale copy of", path, lambda: self.blob_store.delete(path),
            passthrough=_GONE,
        )  # fmt: skip

    # -- loading --------------------------------------------------------------------------
    def partition_load_type(self, context: InputContext) -> Any:
        """Partitions that become one eager frame load as Arrow tables, concatenated and
        converted once (not a pandas frame per partition converted back to Arrow)."""
        adapter = partitioned.frame_adapter(context.dagster_type.typing_type)
        if adapter is None or adapter.lazy:
            return None
        return require("pyarrow").Table

    def load_partitions(self, context: InputContext) -> Any:
        """Several partitions of tables are read as one Arrow dataset
        (:func:`~wharf._io.parquet_files.read_dataset`: parallel, projected, each file opened
        once), then made one frame or a dict of one frame per partition, as the input asks;
        lazy inputs, pickles, kept versions, or files that cannot be one dataset are loaded one
        partition at a time."""
        keys = context.asset_partition_keys
        if (
            len(keys) < 2
            or self.keep_versions is not None
            or context.stored_version is not None
            or partitioned.allow_missing(context)
        ):
            return super().load_partitions(context)
        annotation = context.dagster_type.typing_type
        combined = partitioned.frame_adapter(annotation)
        each = partitioned.value_annotation(annotation)
        if combined is None:  # a dict of partitions: each a frame, or as it was stored
            one = adapter_for_annotation(each)
            if not is_unannotated(each) and (one is None or one.lazy):
                return super().load_partitions(context)
        elif combined.lazy:  # streamed partition by partition
            return super().load_partitions(context)
        paths = self._get_paths_for_partitions(context)
        tables = [p.with_name(p.name + ".parquet") for p in paths.values()]
        columns = context.definition_metadata.get("columns")
        columns = list(columns) if columns else None
        read = read_dataset(self.blob_store, tables, columns=columns, each=combined is None)
        if read is None:  # a file missing, or schemas that need unifying: one by one
            return super().load_partitions(context)
        if combined is not None:
            return combined.from_arrow(read.to_reader(), strip_optional(annotation))
        loaded = {}
        for key, table in zip(paths, read, strict=True):
            stored = (table.schema.metadata or {}).get(b"wharf.frame", b"arrow-table").decode()
            adapter = adapter_for_load(each, stored=stored)
            if adapter is None or adapter.lazy:
                return super().load_partitions(context)
            loaded[key] = adapter.from_arrow(table.to_reader(), _as_loaded(each))
        return partitioned.combine(context, loaded, self.manager_name)

    def load_one(self, context: InputContext) -> Any:
        """Load the asset's (or its one partition's) table, or else its pickle.

        On an object store each is simply fetched: a missing object costs one request, not a
        HEAD before every GET.
        """
        base = self._get_path(context)
        if self.keep_versions is not None:
            return self._load_kept(context, base)
        if context.stored_version is not None:
            from wharf._core.stored_versions import keeps_no_versions

            raise keeps_no_versions(context.asset_key.to_user_string(), self.manager_name)
        return self._load_at(context, base)

    def _load_at(self, context: InputContext, base: Any) -> Any:
        """The table at ``<base>.parquet``, else the pickle at ``base``: each simply fetched,
        so a missing object costs one request, not a HEAD before every GET."""
        table_path = base.with_name(base.name + ".parquet")
        with contextlib.suppress(FileNotFoundError):
            return self.load_table(context, table_path)
        try:
            return self.load_from_path(context, base)
        except FileNotFoundError:
            raise self.missing(context, base) from None

    def path_exists(self, path: Any) -> bool:
        return self.blob_store.exists(path)

    def make_directory(self, path: Any) -> None:
        """Nothing to do: the store makes the folders a value goes to as it writes it."""

    def unlink(self, path: Any) -> None:
        self.blob_store.delete(path)

    def load_from_path(self, context: InputContext, path: Any) -> Any:
        data = self.attempt(
            context, "download", path, lambda: self.blob_store.get(path), passthrough=_GONE
        )
        return pickle.loads(data)

    def load_table(self, context: InputContext, path: Any) -> Any:
        """Open the Parquet object at ``path`` as the input's annotation asks: a whole read
        (one GET), or ranged reads of only the footer and the column chunks asked for (lazy
        inputs, ``columns``)."""
        store = self.blob_store
        adapter = adapter_for_annotation(context.dagster_type.typing_type)
        whole = not context.definition_metadata.get("columns") and not (adapter and adapter.lazy)
        if whole:  # one read of the whole object, then parse in memory
            pa = require("pyarrow", purpose="loading Parquet tables")
            data = self.attempt(
                context, "download", path, lambda: store.get(path), passthrough=_GONE
            )

            def source() -> Any:
                return pa.BufferReader(data)
        else:

            def source() -> Any:
                return self.attempt(
                    context, "open", path, lambda: store.open(path), passthrough=_GONE
                )

        return load_parquet(
            context, source, where=store.shown(path), manager=self.manager_name,
            errors=store.errors,
        )  # fmt: skip

    # -- errors ---------------------------------------------------------------------------
    def attempt(
        self,
        context: InputContext | OutputContext,
        action: str,
        path: Any,
        call: Callable[[], T],
        passthrough: tuple[type[BaseException], ...] = (),
    ) -> T:
        """Run one client call; translate what it raises (after its own retries) into a
        :class:`StorageError` that names the asset, the URL and the last error.

        Exceptions in ``passthrough`` (a missing object, when the caller handles that) and
        wharf's own errors are raised as they are.
        """
        unchanged: tuple[type[BaseException], ...] = (WharfError, *passthrough)
        try:
            return call()
        except unchanged:
            raise
        except self.blob_store.errors() as exc:
            raise self.storage_error(context, action, path, exc) from exc

    def storage_error(
        self, context: InputContext | OutputContext, action: str, path: Any, exc: BaseException
    ) -> StorageError:
        name = context.asset_key.to_user_string() if context.has_asset_key else path.name
        return self.blob_store.error(action, path, exc, asset=name, manager=self.manager_name)


class BlobIOManagerFactory(ConfigurableIOManagerFactory):
    """A factory of :class:`ParquetOrPickleIOManager`: its outputs are checked before a run
    (:meth:`ParquetOrPickleIOManager.check_outputs`) by names alone.

    Args:
        keep_versions: wharf: keep the last N values of each asset (of each partition), for
            ``load_asset_value(key, version=...)`` and ``wharf show KEY --versions``; values
            then live in ``<key>.versions/`` behind a pointer (see
            :mod:`wharf._io.kept_versions`). Default None: only the current value, at
            Dagster's path.
    """

    keep_versions: int | None = None

    def __repr_args__(self) -> Any:  # as Dagster's repr unless keep_versions is set
        args = list(super().__repr_args__())
        keep = [a for a in args if a[0] == "keep_versions" and a[1] is not None]
        return [a for a in args if a[0] != "keep_versions"] + keep

    def get_io_manager(self, context: InitResourceContext) -> Any:
        manager = self.create_io_manager(context)
        keep = self.keep_versions
        if keep is not None and (isinstance(keep, bool) or keep < 1):
            where = context.resource_key or type(self).__name__
            msg = (
                f"resource {where!r} ({type(self).__name__}): keep_versions={keep!r}: expected "
                "a number of versions to keep, at least 1 (or None to keep only the current "
                "value)"
            )
            raise DefinitionError(
                msg, io_manager=where, expected="an int >= 1 or None", got=repr(keep)
            )
        if isinstance(manager, ParquetOrPickleIOManager):
            manager.keep_versions = keep
        return manager

    def local_base(self) -> Path | None:
        """The local folder values go to; None for an object store."""
        return None

    def manager_below(
        self, scheme: str, parts: tuple[str, ...], client: Any
    ) -> ParquetOrPickleIOManager:
        """The engine for values below ``<scheme>://<parts>`` (empty parts left out) on the
        filesystem of the resource ``client``, its secrets masked in error messages."""
        base = f"{scheme}://" + "/".join(p for p in parts if p)
        manager = ParquetOrPickleIOManager(
            base, filesystem=client.filesystem(), secrets=client.secret_values()
        )
        manager._manager_name = type(self).__name__
        return manager

    def check_outputs(
        self,
        outputs: list[tuple[AssetKey, Mapping[str, Any]]],
        partitions: Mapping[AssetKey, Any] | None = None,
    ) -> None:
        name, versions = type(self).__name__, self.keep_versions is not None
        check_blob_outputs(
            name, outputs, partitions or {}, local_base=self.local_base(), versions=versions
        )


class ObjectStoreIOManager(BlobIOManagerFactory, MaskedSecrets):
    """Tables as Parquet, other values pickled, under one URL: S3, GCS, Azure or local.

    Every table-like value (pandas, polars, pyarrow, DuckDB relation) is stored as Parquet
    through Arrow and loads as the input's annotation asks; ``AssetIn(metadata={"columns":
    [...]})`` reads only those columns, and lazy inputs (``pa.RecordBatchReader``,
    ``pl.LazyFrame``, DuckDB relations) read the object with ranged requests instead of
    downloading it whole. Everything else is pickled. A write becomes visible only when it is
    complete; the previous value stays readable if it fails.

    Args:
        base_path: ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``abfs://container/prefix``,
            ``file:///folder``, a local folder, or any other fsspec URL.
        storage_options: keyword arguments for the fsspec filesystem (endpoint, credentials,
            ``max_attempts``, ``timeout``); values may be :class:`~wharf.EnvVar`. Credentials
            never appear in reprs, logs, metadata or error messages.

    Examples:
        >>> ObjectStoreIOManager(base_path="s3://lake/raw", storage_options={"secret": "x"})
        ObjectStoreIOManager(base_path='s3://lake/raw', storage_options={'secret': '**********'})
    """

    base_path: str
    storage_options: dict[str, Any] = Field(default_factory=dict)

    def local_base(self) -> Path | None:
        from upath import UPath

        path = UPath(self.base_path)
        return Path(path.path) if path.protocol in ("", "file", "local") else None

    def create_io_manager(self, context: InitResourceContext) -> ParquetOrPickleIOManager:
        from upath import UPath

        where = context.resource_key or type(self).__name__
        options = {
            k: (
                v.resolve(resource=where, field=f"storage_options.{k}")
                if isinstance(v, EnvVar)
                else v
            )
            for k, v in self.storage_options.items()
        }
        protocol = UPath(self.base_path).protocol
        secrets = [str(v) for k, v in options.items() if k in SECRET_OPTIONS and v]
        if protocol in ("", "file", "local"):
            manager = ParquetOrPickleIOManager(self.base_path)
        else:
            fs = filesystem_for(protocol, options)
            manager = ParquetOrPickleIOManager(self.base_path, filesystem=fs, secrets=secrets)
        manager._manager_name = type(self).__name__
        return manager


_GONE = (FileNotFoundError,)  # an object that is not there: the caller decides


def _as_loaded(annotation: Any) -> Any:
    """What one partition's frame is built as: its annotation, or (unannotated) the type it
    was stored as."""
    return Any if is_unannotated(annotation) else strip_optional(annotation)
