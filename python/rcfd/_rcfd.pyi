"""Type hints for rcfd's C extension (python/csrc)."""

from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = npt.ArrayLike
Snapshot = Union[bytes, bytearray, memoryview]

class Error(ValueError):
    """An error reported by rcfd, with rcfd's message."""

    code: int  # rcfd's negative error code (rcfd/status.h)
    name: str  # its symbol: "EDIM", "ENONFINITE", "ECONFIG", "EBADSTATE", ...
    row: Optional[int]  # the offending record's index in the call's input

def strerror(code: int) -> str: ...
def alloc_stats() -> Dict[str, int]: ...

class Result(Tuple[Any, ...]):
    """Forest.process's result: per record (2-D input) or numpy scalars (one record)."""

    score: Any  # np.ndarray[float64] | np.float64
    grade: Any  # np.ndarray[float64] | np.float64
    anomaly: Any  # np.ndarray[bool] | np.bool_
    threshold: Any  # np.ndarray[float64] | np.float64
    novelty: Any  # np.ndarray[float64] | np.float64
    attribution: Optional[np.ndarray]  # (n, dim) or (dim,) with explain
    strength: Optional[np.ndarray]
    direction: Optional[np.ndarray]  # int8: 1 HIGH, -1 LOW
    n_fields: int
    n_sequence_fields: int

class Forest:
    def __init__(
        self,
        trees: int = 100,
        sample: int = 256,
        shingle: int = 1,
        time_decay: int = 100000,
        seed: int = 42,
        explain: bool = False,
        *,
        dim: Optional[int] = None,
        key: Optional[str] = None,
        **opts: Union[int, float, bool, str],
    ) -> None: ...
    def process(self, x: ArrayLike) -> Result: ...
    def score(self, x: ArrayLike) -> Any: ...  # np.ndarray[float64] | np.float64
    def save(self) -> bytes: ...
    @classmethod
    def load(cls, snapshot: Snapshot) -> "Forest": ...
    @property
    def dim(self) -> Optional[int]: ...
    @property
    def params(self) -> Dict[str, Union[int, bool, str]]: ...
    @property
    def records(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def explain(self) -> bool: ...
    @property
    def key(self) -> Optional[str]: ...

class Hotspot(Tuple[Any, ...]):
    density: float
    count: int
    dense_count: int
    min_values: np.ndarray
    max_values: np.ndarray
    contains_new: bool

class HotspotsResult(Tuple[Any, ...]):
    in_hotspot: Any  # np.ndarray[bool] | np.bool_
    density: Any  # np.ndarray[float64] | np.float64
    count: Any  # np.ndarray[uint32] | np.uint32
    n_hotspots: Any  # np.ndarray[uint32] | np.uint32
    changed: Any  # np.ndarray[bool] | np.bool_
    hotspots: List[Hotspot]

class Hotspots:
    def __init__(
        self,
        window: int = 1000,
        radius: float = 0.2,
        min_points: int = 17,
        *,
        dim: Optional[int] = None,
        scale: Optional[ArrayLike] = None,
        only_containing_new: bool = False,
        algorithm: str = "incremental",
    ) -> None: ...
    def process(self, x: ArrayLike) -> HotspotsResult: ...
    def json(self, *, kda: bool = False) -> str: ...
    def save(self) -> bytes: ...
    @classmethod
    def load(cls, snapshot: Snapshot) -> "Hotspots": ...
    @property
    def dim(self) -> Optional[int]: ...
    @property
    def params(self) -> Dict[str, Any]: ...
    @property
    def records(self) -> int: ...
    @property
    def hotspots(self) -> List[Hotspot]: ...
