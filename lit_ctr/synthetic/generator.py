"""The generator: Criteo-shaped CTR rows whose labels come from a planted factorization machine.

Each row has a ``label``, ``num_numeric`` heavy-tailed counts ``I1..In`` and one
categorical value per field ``C1..Cm``, printed as 8 hex digits like Criteo's hashed
categories. The click probability of a row is ``sigmoid(logit)`` of a second-order FM

    logit = b + Σ_i w_i x_i + Σ_{i<j} <v_i, v_j> x_i x_j

over its active features: one id per present categorical field (x = 1) and each present
numeric field as its standardized ``log1p`` count. Missing cells contribute nothing.
The first-order and pairwise parts each have a standard deviation of about
``FIRST_ORDER_STD`` and ``PAIRWISE_STD`` in the logit, so both carry signal.

Calibration of the default spec (seed 0 unless said; AUCs on held-out rows):

* 100,000 rows: positive rate 0.252, Bayes-optimal AUC 0.812.
* Pairwise signal: on 50,000 rows, logistic regression on one-hot first-order features
  (fit on 40,000) scores 0.765 against 0.812 for the planted probabilities on the
  other 10,000, a 0.047 gap (0.048 and 0.059 for seeds 1 and 2). The planted
  first-order part alone scores only 0.648; LR gets further by absorbing the
  pairwise terms' marginal effects, but not all the way.
* Learnability: an FM with embedding dim 8 trained with Adam (lr 3e-3, batch 1024) on
  80,000 of the 100,000 rows scores 0.805 on the other 20,000 after 3 epochs and 0.807
  after 5, 0.007 and 0.005 below the Bayes AUC (0.010 and 0.008 below the planted
  probabilities' 0.815 on those rows). This needs small fields: with the same mix
  scaled to 100 or 3,000 ids, the rarely seen ids' parameters cannot be learnt from
  100k rows and the FM stays about 0.02 (100) or 0.06 (3,000) short.

Planted parameters depend only on ``spec.seed`` and the spec's shape; the rows of chunk
``c`` are drawn from the stream ``(seed, c)``, so 50M rows can be generated chunk by
chunk (:func:`generate_chunks`) from the same planted model.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType

import numpy as np
import polars as pl

FIRST_ORDER_STD = 1.0
PAIRWISE_STD = 1.0

DEFAULT_SPLITS: Mapping[str, float] = MappingProxyType({"train": 0.8, "valid": 0.1, "test": 0.1})

# Cardinalities of C1..C26 in the Criteo Kaggle (DAC) data set; their log-profile
# shapes the mix returned by criteo_like_cardinalities.
_CRITEO_CARDINALITIES = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)  # fmt: skip

# Independent random streams derived from the seed.
_PLANT_STREAM = 0
_CALIBRATION_STREAM = 1
_ROWS_STREAM = 2

_CALIBRATION_ROWS = 50_000
# Hex tokens are a bijection of a uint32 id, so a field can hold at most 2**32 ids.
_MAX_CARDINALITY = 2**32


def criteo_like_cardinalities(num_categorical: int, max_cardinality: int) -> list[int]:
    """Cardinalities with the Criteo mix of tiny, medium and huge fields.

    Field ``i`` gets ``max_cardinality ** (log c_i / log c_max)`` where ``c_i`` cycles
    through the Criteo Kaggle cardinalities, so the largest field has exactly
    ``max_cardinality`` ids and the log-spread of the others follows Criteo.
    """
    if num_categorical < 0:
        raise ValueError(f"num_categorical must be >= 0, got {num_categorical}")
    if not 1 <= max_cardinality <= _MAX_CARDINALITY:
        raise ValueError(f"max_cardinality must be between 1 and {_MAX_CARDINALITY}, got {max_cardinality}")
    log_max = math.log(max(_CRITEO_CARDINALITIES))
    profile = [math.log(c) / log_max for c in _CRITEO_CARDINALITIES]
    return [
        # At least 2 ids where allowed, so that every field varies.
        max(min(2, max_cardinality), round(max_cardinality ** profile[i % len(profile)]))
        for i in range(num_categorical)
    ]


@dataclass
class SyntheticSpec:
    """What to generate; every field is validated on construction.

    Attributes:
        rows: number of rows.
        num_numeric: number of numeric fields ``I1..In``.
        cardinalities: number of distinct ids of each categorical field ``C1..Cm``.
        latent_dim: rank ``k`` of the planted FM's pairwise factors.
        zipf_exponent: exponent of the Zipf-like id popularity within each field.
        missing_rate: fraction of feature cells left empty.
        base_rate: approximate positive rate; the planted bias is tuned to hit it.
        seed: seed of the planted model and of the row draws.
        multi_cardinalities: distinct values of each multi-valued field ``M1..Mj`` (a
            list of values per cell, written ``|``-separated): the planted FM sees each
            as one field whose vector is the *mean* of its values' vectors (zero for an
            empty list), as ``kind: multi`` with ``pooling: mean`` learns it.
        multi_mean_lengths: mean number of values of each multi field (Poisson lengths,
            values drawn Zipf-like without repeats in a row); default 5 each.
        multi_value_weights: whether every multi value carries a weight, Uniform(0.1, 2)
            to two decimals, written ``token:weight``; the planted FM then pools the
            field as ``Σ w_i v_i / Σ w_i`` (and its first-order weights alike), as
            ``value_weights: true`` with ``pooling: mean`` learns it.
    """

    rows: int = 100_000
    num_numeric: int = 13
    # 2 to 30 ids per field (242 in all): few enough that an FM can learn every id's
    # planted parameters from 100k rows; see the module docstring.
    cardinalities: list[int] = field(default_factory=lambda: criteo_like_cardinalities(26, 30))
    latent_dim: int = 4
    zipf_exponent: float = 1.1
    missing_rate: float = 0.02
    base_rate: float = 0.25
    seed: int = 0
    multi_cardinalities: list[int] = field(default_factory=list)
    multi_mean_lengths: list[float] | None = None
    multi_value_weights: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field holding an invalid value."""
        _require(_is_int(self.rows) and self.rows >= 1, "rows", "an integer >= 1", self.rows)
        _require(
            _is_int(self.num_numeric) and self.num_numeric >= 0, "num_numeric", "an integer >= 0", self.num_numeric
        )
        for i, cardinality in enumerate(self.cardinalities):
            _require(
                _is_int(cardinality) and 1 <= cardinality <= _MAX_CARDINALITY,
                f"cardinalities[{i}]",
                f"an integer between 1 and {_MAX_CARDINALITY}",
                cardinality,
            )
        _require(
            self.num_numeric + len(self.cardinalities) >= 1,
            "cardinalities",
            "at least one field (numeric or categorical)",
            self.cardinalities,
        )
        _require(_is_int(self.latent_dim) and self.latent_dim >= 1, "latent_dim", "an integer >= 1", self.latent_dim)
        _require(self.zipf_exponent > 0, "zipf_exponent", "a number > 0", self.zipf_exponent)
        _require(0 <= self.missing_rate < 1, "missing_rate", "a number in [0, 1)", self.missing_rate)
        _require(0 < self.base_rate < 1, "base_rate", "a number in (0, 1)", self.base_rate)
        _require(_is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0", self.seed)
        for i, cardinality in enumerate(self.multi_cardinalities):
            _require(
                _is_int(cardinality) and 1 <= cardinality <= _MAX_CARDINALITY,
                f"multi_cardinalities[{i}]",
                f"an integer between 1 and {_MAX_CARDINALITY}",
                cardinality,
            )
        if self.multi_mean_lengths is not None:
            _require(
                len(self.multi_mean_lengths) == len(self.multi_cardinalities)
                and all(length > 0 for length in self.multi_mean_lengths),
                "multi_mean_lengths",
                "one number > 0 per multi field",
                self.multi_mean_lengths,
            )
        _require(
            isinstance(self.multi_value_weights, bool), "multi_value_weights", "true or false", self.multi_value_weights
        )

    @property
    def mean_lengths(self) -> list[float]:
        """Mean values per row of each multi field."""
        return list(self.multi_mean_lengths or [5.0] * len(self.multi_cardinalities))


def spec_description(spec: SyntheticSpec) -> dict[str, object]:
    """The spec as plain data (manifests, folder names); ``multi_value_weights`` only when
    set, so data sets written before it keep their manifests and folders."""
    described = asdict(spec)
    if not spec.multi_value_weights:
        del described["multi_value_weights"]
    return described


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _require(ok: bool, name: str, expected: str, value: object) -> None:
    if not ok:
        raise ValueError(f"SyntheticSpec.{name} must be {expected}, got {value!r}")


@dataclass
class PlantedTruth:
    """What was planted, for reporting.

    Attributes:
        probabilities: ``[rows]`` true click probability of every generated row.
        bayes_auc: :func:`bayes_optimal_auc` of ``probabilities``.
    """

    probabilities: np.ndarray
    bayes_auc: float


@dataclass
class _Planted:
    """The planted FM and the per-field draw parameters."""

    numeric_mu: np.ndarray  # [n] location of log(count)
    numeric_sigma: np.ndarray  # [n] scale of log(count)
    numeric_w: np.ndarray  # [n]
    numeric_v: np.ndarray  # [n, k]
    # Per field, with a trailing zero row that the missing id -1 picks up, so missing
    # cells contribute nothing without masking.
    categorical_w: list[np.ndarray]  # per field [cardinality + 1]
    categorical_v: list[np.ndarray]  # per field [cardinality + 1, k]
    token_keys: np.ndarray  # [m] key of each field's id -> hex token bijection
    bias: float
    # Multi-valued fields, after the categorical ones (empty without them).
    multi_w: list[np.ndarray] = field(default_factory=list)  # per field [cardinality + 1]
    multi_v: list[np.ndarray] = field(default_factory=list)  # per field [cardinality + 1, k]
    multi_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))


@dataclass
class _Draw:
    """Feature values of a batch of rows, before formatting."""

    # Field-major, so that each field's values are contiguous.
    counts: np.ndarray  # [n, rows] float64 counts, NaN where missing
    ids: np.ndarray  # [m, rows] int64 ids, -1 where missing
    # Per multi field: [rows, max length] int64 ids, -1 past the row's values.
    multi_ids: list[np.ndarray] = field(default_factory=list)
    # Per multi field with value weights: [rows, max length] float64, 0 past the row's values.
    multi_weights: list[np.ndarray] = field(default_factory=list)


def generate_frame(spec: SyntheticSpec) -> tuple[pl.DataFrame, PlantedTruth]:
    """Generate ``spec.rows`` rows and the true probability of each.

    The frame's columns are ``label`` (Int8), ``I1..In`` (Float64, nullable) and
    ``C1..Cm`` (String, nullable). The rows equal the first chunk of
    ``generate_chunks(spec, spec.rows)``.
    """
    frame, probabilities = next(generate_chunks(spec, spec.rows))
    return frame, PlantedTruth(probabilities, bayes_optimal_auc(probabilities))


def generate_chunks(spec: SyntheticSpec, chunk_rows: int) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
    """Yield ``(frame, probabilities)`` chunks of at most ``chunk_rows`` rows, ``spec.rows`` in all.

    Every chunk is scored by the same planted model; chunk ``c`` draws its rows from the
    stream ``(spec.seed, c)``, so chunk 0 equals ``generate_frame`` of a spec with
    ``rows=chunk_rows``.
    """
    spec.validate()
    if not (_is_int(chunk_rows) and chunk_rows >= 1):
        raise ValueError(f"chunk_rows must be an integer >= 1, got {chunk_rows!r}")
    return _chunks(spec, chunk_rows)


def _chunks(spec: SyntheticSpec, chunk_rows: int) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
    planted = _plant(spec)
    for index, start in enumerate(range(0, spec.rows, chunk_rows)):
        rows = min(chunk_rows, spec.rows - start)
        rng = np.random.default_rng([spec.seed, _ROWS_STREAM, index])
        draw = _draw_features(spec, planted, rng, rows)
        probabilities = _sigmoid(planted.bias + _fm_score(planted, draw))
        labels = rng.random(rows) < probabilities
        yield _to_frame(planted, draw, labels), probabilities


def bayes_optimal_auc(probabilities: np.ndarray) -> float:
    """Expected AUC of the true probabilities as scores when labels are Bernoulli(p).

    Over ordered pairs of distinct rows ``i != j``, the pair counts when ``i`` is
    positive and ``j`` negative, which happens with probability ``p_i (1 - p_j)``; it is
    ranked correctly when ``p_i > p_j`` and half-correctly on a tie::

        AUC = Σ_{i≠j} p_i (1-p_j) (1[p_i > p_j] + ½·1[p_i = p_j])
              / (Σ_i p_i · Σ_j (1-p_j) - Σ_i p_i (1-p_i))

    (the ratio of expectations). Computed in O(n log n) by grouping equal values after
    sorting. Returns NaN when no pair can be a (positive, negative) pair.
    """
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    values, counts = np.unique(p, return_counts=True)
    positive = counts * values  # Σ p over each group of equal values
    negative = counts * (1.0 - values)  # Σ (1-p) over each group
    self_pairs = counts * values * (1.0 - values)  # the i = j terms to exclude
    negative_below = np.cumsum(negative) - negative
    ties = positive * negative - self_pairs
    numerator = np.sum(positive * negative_below) + 0.5 * np.sum(ties)
    denominator = positive.sum() * negative.sum() - self_pairs.sum()
    return float(numerator / denominator) if denominator > 0 else float("nan")


def _plant(spec: SyntheticSpec) -> _Planted:
    """Draw the planted FM from ``spec.seed`` and tune its bias to ``spec.base_rate``."""
    rng = np.random.default_rng([spec.seed, _PLANT_STREAM])
    k = spec.latent_dim
    n = spec.num_numeric
    w_std, v_std = _field_scales(n + len(spec.cardinalities) + len(spec.multi_cardinalities), k)
    planted = _Planted(
        numeric_mu=rng.uniform(0.0, 3.0, n),
        numeric_sigma=rng.uniform(0.75, 2.0, n),
        numeric_w=w_std * rng.standard_normal(n),
        numeric_v=v_std * rng.standard_normal((n, k)),
        categorical_w=[_id_table(rng, w_std, (c,)) for c in spec.cardinalities],
        categorical_v=[_id_table(rng, v_std, (c, k)) for c in spec.cardinalities],
        token_keys=rng.integers(0, 2**32, len(spec.cardinalities), dtype=np.uint32),
        bias=0.0,
    )
    # Drawn after everything else, so that specs without multi fields plant what they did before.
    planted.multi_w = [_id_table(rng, w_std, (c,)) for c in spec.multi_cardinalities]
    planted.multi_v = [_id_table(rng, v_std, (c, k)) for c in spec.multi_cardinalities]
    planted.multi_keys = rng.integers(0, 2**32, len(spec.multi_cardinalities), dtype=np.uint32)
    calibration = _draw_features(
        spec, planted, np.random.default_rng([spec.seed, _CALIBRATION_STREAM]), _CALIBRATION_ROWS
    )
    planted.bias = _bias_for_rate(_fm_score(planted, calibration), spec.base_rate)
    return planted


def _field_scales(num_fields: int, k: int) -> tuple[float, float]:
    """Std of each w and of each entry of each v.

    With unit-variance features, ``Var(Σ_f w_f x_f) = F σ_w²`` and
    ``Var(Σ_{i<j} <v_i, v_j>) = P k σ_v⁴`` over ``F`` fields and ``P`` pairs of fields, so
    these scales give the two parts stds ``FIRST_ORDER_STD`` and ``PAIRWISE_STD``.
    """
    num_pairs = max(1, num_fields * (num_fields - 1) // 2)
    w_std = FIRST_ORDER_STD / math.sqrt(num_fields)
    v_std = (PAIRWISE_STD**2 / (num_pairs * k)) ** 0.25
    return w_std, v_std


def _id_table(rng: np.random.Generator, std: float, shape: tuple[int, ...]) -> np.ndarray:
    """Normal(0, std²) entries of shape ``shape`` plus a trailing zero row for missing cells.

    float32 keeps 1e6-id fields affordable; scores accumulate in float64.
    """
    table = np.zeros((shape[0] + 1, *shape[1:]), dtype=np.float32)
    rng.standard_normal(dtype=np.float32, out=table[:-1])
    table *= np.float32(std)
    return table


def _bias_for_rate(scores: np.ndarray, rate: float) -> float:
    """The bias ``b`` with ``mean(sigmoid(b + scores)) == rate``, by bisection (it is monotone)."""
    low, high = -50.0, 50.0
    for _ in range(100):
        middle = 0.5 * (low + high)
        if _sigmoid(middle + scores).mean() < rate:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def _draw_features(spec: SyntheticSpec, planted: _Planted, rng: np.random.Generator, rows: int) -> _Draw:
    """Draw counts and ids of ``rows`` rows, blanking each cell with ``missing_rate``.

    Matrices are drawn row by row (which value goes where is part of what a seed means)
    and stored field-major.
    """
    n, m = spec.num_numeric, len(spec.cardinalities)
    normal = np.ascontiguousarray(rng.standard_normal((rows, n)).T)
    log_counts = planted.numeric_mu[:, None] + planted.numeric_sigma[:, None] * normal
    counts = np.floor(np.exp(log_counts))  # heavy-tailed integer counts, zero when exp < 1
    counts[_missing(rng, rows, n, spec.missing_rate)] = np.nan
    ids = np.empty((m, rows), dtype=np.int64)
    for f, cardinality in enumerate(spec.cardinalities):
        ids[f] = _zipf_ids(rng, rows, cardinality, spec.zipf_exponent)
    ids[_missing(rng, rows, m, spec.missing_rate)] = -1
    multi = [
        _multi_ids(rng, rows, cardinality, length, spec.zipf_exponent)
        for cardinality, length in zip(spec.multi_cardinalities, spec.mean_lengths)
    ]
    # Drawn last, so that specs without value weights draw what they did before.
    weights = (
        [np.where(ids_ >= 0, np.round(rng.uniform(0.1, 2.0, ids_.shape), 2), 0.0) for ids_ in multi]
        if spec.multi_value_weights
        else []
    )
    return _Draw(counts=counts, ids=ids, multi_ids=multi, multi_weights=weights)


def _multi_ids(
    rng: np.random.Generator, rows: int, cardinality: int, mean_length: float, exponent: float
) -> np.ndarray:
    """``[rows, L]`` ids of one multi field: Poisson(``mean_length``) values a row (at most
    ``cardinality``), Zipf-like, distinct within a row, then -1."""
    lengths = np.minimum(rng.poisson(mean_length, rows), cardinality)
    width = max(int(lengths.max(initial=0)), 1)
    # Draw more than needed and keep each row's first distinct ids, in draw order.
    draws = _zipf_ids(rng, rows * width * 2, cardinality, exponent).reshape(rows, width * 2)
    order = np.argsort(draws, axis=1, kind="stable")
    sorted_draws = np.take_along_axis(draws, order, 1)
    first = np.ones_like(draws, dtype=bool)
    first[:, 1:] = sorted_draws[:, 1:] != sorted_draws[:, :-1]
    distinct = np.zeros_like(first)
    np.put_along_axis(distinct, order, first, 1)
    rank = np.cumsum(distinct, axis=1) - 1  # position among the row's distinct draws
    out = np.full((rows, width), -1, dtype=np.int64)
    keep = distinct & (rank < lengths[:, None])
    r, c = np.nonzero(keep)
    out[r, rank[r, c]] = draws[r, c]
    return out


def _missing(rng: np.random.Generator, rows: int, fields: int, rate: float) -> np.ndarray:
    """Field-major ``[fields, rows]`` mask of missing cells, drawn row by row."""
    return np.ascontiguousarray((rng.random((rows, fields)) < rate).T)


def _zipf_ids(rng: np.random.Generator, rows: int, cardinality: int, exponent: float) -> np.ndarray:
    """Ids ``0..cardinality-1`` with ``P(id = r)`` ≈ ∝ ``(r + 1) ** -exponent``.

    Inverts the CDF of the continuous density ``∝ x^-exponent`` on ``[1, cardinality + 1)``
    and floors it: O(1) per draw, unlike a search over the discrete CDF. Popularity
    follows the id here; the hex tokens (:func:`_tokens`) shuffle it.
    """
    u = rng.random(rows)
    span = math.log(cardinality + 1.0)
    a = 1.0 - exponent
    if abs(a) < 1e-9:
        log_x = u * span
    else:  # log of (1 + u((c+1)^a - 1))^(1/a), with expm1/log1p for exponents near 1
        log_x = np.log1p(u * math.expm1(a * span)) / a
    return np.minimum(np.exp(log_x).astype(np.int64) - 1, cardinality - 1)


def _fm_score(planted: _Planted, draw: _Draw) -> np.ndarray:
    """The FM logit without bias, by the O(k·n) identity
    ``Σ_{i<j} <v_i x_i, v_j x_j> = ½ (‖Σ_i v_i x_i‖² - Σ_i ‖v_i x_i‖²)``."""
    rows = draw.ids.shape[1]
    linear = np.zeros(rows)
    total = np.zeros((rows, planted.numeric_v.shape[1]))
    squares = np.zeros(rows)
    for wx, vx in _field_terms(planted, draw):
        linear += wx
        total += vx
        squares += np.einsum("rk,rk->r", vx, vx)
    return linear + 0.5 * (np.einsum("rk,rk->r", total, total) - squares)


def _field_terms(planted: _Planted, draw: _Draw) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(w x, v x)`` of every field's feature per row, zero where the cell is missing."""
    standardized = (np.log1p(draw.counts) - planted.numeric_mu[:, None]) / planted.numeric_sigma[:, None]
    for f, x in enumerate(np.nan_to_num(standardized, nan=0.0)):
        yield planted.numeric_w[f] * x, np.outer(x, planted.numeric_v[f])
    for ids, w, v in zip(draw.ids, planted.categorical_w, planted.categorical_v, strict=True):
        yield w[ids], v[ids]  # id -1 picks the zero row
    for f, (ids, w, v) in enumerate(zip(draw.multi_ids, planted.multi_w, planted.multi_v, strict=True)):
        if draw.multi_weights:  # weighted mean pooling: Σ w_i v_i / Σ w_i; an empty list is zero
            weights = draw.multi_weights[f]
            total = np.where(weights.sum(axis=1) > 0, weights.sum(axis=1), 1.0)
            yield (w[ids] * weights).sum(axis=1) / total, (v[ids] * weights[..., None]).sum(axis=1) / total[:, None]
            continue
        count = np.maximum((ids >= 0).sum(axis=1), 1)  # mean pooling; an empty list is zero
        yield w[ids].sum(axis=1) / count, v[ids].sum(axis=1) / count[:, None]  # -1 picks the zero row


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x)))  # overflow-free logistic


def _to_frame(planted: _Planted, draw: _Draw, labels: np.ndarray) -> pl.DataFrame:
    columns = [pl.Series("label", labels, dtype=pl.Int8)]
    for f, counts in enumerate(draw.counts):
        columns.append(pl.Series(f"I{f + 1}", counts, dtype=pl.Float64, nan_to_null=True))
    for f, ids in enumerate(draw.ids):
        tokens = _tokens(ids.astype(np.uint32), planted.token_keys[f]).alias(f"C{f + 1}")
        missing = np.flatnonzero(ids < 0)
        columns.append(tokens.scatter(missing, None) if missing.size else tokens)
    for f, ids in enumerate(draw.multi_ids):
        present = ids >= 0
        tokens = _tokens(ids[present].astype(np.uint32), planted.multi_keys[f])
        if draw.multi_weights:  # token:weight
            pairs = pl.DataFrame({"token": tokens, "weight": draw.multi_weights[f][present]})
            tokens = pairs.select(pl.concat_str("token", pl.lit(":"), pl.col("weight").cast(pl.String)))["token"]
        rows = pl.DataFrame({"row": np.nonzero(present)[0], "token": tokens})  # row-major: values in order
        joined = rows.group_by("row", maintain_order=True).agg(pl.col("token").str.join("|"))
        every_row = pl.DataFrame({"row": np.arange(ids.shape[0])})
        cells = every_row.join(joined, on="row", how="left")["token"]  # an empty list: a missing cell
        columns.append(cells.alias(f"M{f + 1}"))
    return pl.DataFrame(columns)


def _mix(ids: np.ndarray, key: np.uint32) -> np.ndarray:
    """A keyed bijection of uint32: xor, odd multiplies and xor-shifts are each invertible."""
    x = ids ^ key
    x = x * np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x = x * np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def _hex_quads() -> np.ndarray:
    """The 4 ASCII hex digits of every 16-bit value, packed in one uint32 each."""
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    values = np.arange(1 << 16, dtype=np.uint32)
    nibbles = (values[:, None] >> np.array([12, 8, 4, 0], dtype=np.uint32)) & 0xF
    return np.ascontiguousarray(digits[nibbles]).view(np.uint32).ravel()


_HEX_QUADS = _hex_quads()


def _tokens(ids: np.ndarray, key: np.uint32) -> pl.Series:
    """8-hex-digit strings of the mixed ids: the same id always prints the same token,
    distinct ids distinct tokens, and popularity no longer follows the printed order."""
    mixed = _mix(ids, key)
    quads = np.empty((ids.size, 2), dtype=np.uint32)
    quads[:, 0] = _HEX_QUADS[mixed >> np.uint32(16)]
    quads[:, 1] = _HEX_QUADS[mixed & np.uint32(0xFFFF)]
    return pl.Series(quads.view("S8").ravel()).cast(pl.String)
