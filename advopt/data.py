"""Reference samples: load from npz/npy/csv/parquet/ROOT, select features by name, check, save.

A sample is a 2-d float array (events x features) with optional feature names. ``.npz``
files written by :func:`save_sample` (and ``advopt simulate``) hold ``events`` and
``feature_names`` and are read back as references.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advopt.execution import first_line


@dataclass(frozen=True)
class Sample:
    """Events (n, d) float64 and their feature names (``None`` when the file has none)."""

    events: np.ndarray
    feature_names: tuple[str, ...] | None = None

    def select(self, features: Sequence[str] | None) -> "Sample":
        """Keep the named features, in the given order."""
        if features is None:
            return self
        if self.feature_names is None:
            raise ValueError("reference.features: the reference file has no feature names to select from")
        missing = [f for f in features if f not in self.feature_names]
        if missing:
            raise ValueError(f"reference.features: {missing} not in the reference's features {list(self.feature_names)}")
        columns = [self.feature_names.index(f) for f in features]
        return Sample(self.events[:, columns], tuple(features))


def load_sample(path: str | Path, features: Sequence[str] | None = None, tree: str | None = None) -> Sample:
    """Read a sample from ``.npz``, ``.npy``, ``.csv``, ``.parquet`` or ``.root``.

    ``features`` selects columns by name (needed for ROOT files, where each branch is a
    feature; optional elsewhere). ``tree`` names the TTree in a ROOT file (or use
    ``file.root:tree``). Raises ``ValueError`` for a missing file, an unknown format or
    non-finite values.
    """
    path_str = str(path)
    if tree is None and ".root:" in path_str:
        path_str, tree = path_str.split(".root:", 1)
        path_str += ".root"
    path = Path(path_str)
    if not path.is_file():
        raise ValueError(f"reference.path: file not found: {path}")
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ValueError(f"reference.path: unsupported format {path.suffix!r}; use one of {sorted(_LOADERS)}")
    try:
        sample = loader(path, features, tree) if loader is _load_root else loader(path)
    except (ValueError, OSError) as err:  # a damaged file, or contents numpy cannot read
        if str(err).startswith("reference"):  # already names the field
            raise
        raise ValueError(f"reference {path.name}: cannot be read ({first_line(err)})") from None
    sample = sample.select(features)
    return check_sample(sample.events, sample.feature_names, what=f"reference {path.name}")


def check_sample(events, feature_names=None, what: str = "sample") -> Sample:
    """Cast to a 2-d float64 array and refuse empty, non-finite or ragged input."""
    try:
        array = np.asarray(events, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what}: not a numeric array ({err})") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what}: expected a non-empty 2-d array (events x features), got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(f"{what}: {bad.sum()} NaN/inf values in {rows.size} events (first at event {rows[0]})")
    names = tuple(str(n) for n in feature_names) if feature_names is not None else None
    if names is not None and len(names) != array.shape[1]:
        raise ValueError(f"{what}: {len(names)} feature names for {array.shape[1]} columns")
    return Sample(array, names)


def save_sample(path: str | Path, events: np.ndarray, feature_names: Sequence[str] | None = None, **metadata) -> Path:
    """Write ``events`` (and names, and JSON-able metadata) to an ``.npz`` file."""
    import json

    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    names = np.array(list(feature_names) if feature_names is not None else [], dtype=str)
    np.savez_compressed(path, events=np.asarray(events), feature_names=names, metadata=json.dumps(metadata))
    return path


def _load_npz(path: Path) -> Sample:
    with np.load(path, allow_pickle=False) as archive:
        arrays = [name for name in archive.files if name != "feature_names" and name != "metadata"]
        if "events" in archive.files:
            key = "events"
        elif len(arrays) == 1 and arrays[0] == "arr_0":  # np.savez(path, events) names it arr_0
            key = arrays[0]
        else:
            raise ValueError(f"reference {path.name}: no 'events' array (it holds {archive.files}); "
                             "write it with advopt.data.save_sample or name the array 'events'")
        names = archive["feature_names"] if "feature_names" in archive.files else None
        names = tuple(names.tolist()) if names is not None and names.size else None
        return Sample(np.asarray(archive[key], dtype=np.float64), names)


def _load_npy(path: Path) -> Sample:
    return Sample(np.load(path, allow_pickle=False).astype(np.float64))


def _load_csv(path: Path) -> Sample:
    with path.open() as handle:
        header = handle.readline().strip().split(",")
    has_header = any(not _is_number(cell) for cell in header)
    data = np.loadtxt(path, delimiter=",", skiprows=1 if has_header else 0, ndmin=2)
    return Sample(data, tuple(h.strip() for h in header) if has_header else None)


def _load_parquet(path: Path) -> Sample:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("reference.path: reading parquet needs pyarrow: pip install 'advopt[io]'") from None
    table = pq.read_table(path)
    columns = [np.asarray(table.column(name).to_numpy(), dtype=np.float64) for name in table.column_names]
    return Sample(np.column_stack(columns), tuple(table.column_names))


def _load_root(path: Path, features, tree) -> Sample:
    try:
        import uproot
    except ImportError:
        raise ValueError("reference.path: reading ROOT files needs uproot: pip install 'advopt[io]'") from None
    with uproot.open(path) as file:
        # uproot >= 5.6 writes RNTuples by default; both read the same way.
        trees = [k.split(";")[0] for k, cls in file.classnames().items() if cls in ("TTree", "ROOT::RNTuple")]
        name = tree or (trees[0] if len(trees) == 1 else None)
        if name is None:
            raise ValueError(f"reference.tree: {path.name} has TTrees {trees}; name one (reference.tree or file.root:TREE)")
        if name not in trees:
            raise ValueError(f"reference.tree: no TTree {name!r} in {path.name}; it has {trees}")
        ttree = file[name]
        branches = list(features) if features is not None else list(ttree.keys())
        missing = [b for b in branches if b not in ttree.keys()]
        if missing:
            raise ValueError(f"reference.features: branches {missing} not in TTree {name!r}")
        arrays = ttree.arrays(branches, library="np")
    return Sample(np.column_stack([np.asarray(arrays[b], dtype=np.float64) for b in branches]), tuple(branches))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_LOADERS: dict[str, Callable[..., Sample]] = {".npz": _load_npz, ".npy": _load_npy, ".csv": _load_csv, ".parquet": _load_parquet, ".root": _load_root}
