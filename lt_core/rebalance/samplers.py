"""``torch.utils.data.Sampler`` classes wrapping :func:`lt_core.rebalance.sampling.epoch_indices`.

Each iteration yields one epoch; the epoch number advances by itself after every full pass, or
is set explicitly with ``set_epoch(e)`` (as ``DistributedSampler``). The list of epoch ``e`` is
exactly ``epoch_indices(y, C, strategy, epoch=e, seed=seed, ...)``.

Example
-------
>>> from torch.utils.data import DataLoader
>>> sampler = ClassBalancedSampler(train_labels, seed=0)
>>> loader = DataLoader(dataset, batch_size=256, sampler=sampler)
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from torch.utils.data import Sampler

from .sampling import check_labels, epoch_indices, stochastic_repeat_indices, rng_for

__all__ = ["RebalanceSampler", "InstanceBalancedSampler", "ClassBalancedSampler", "SquareRootSampler",
           "ProgressivelyBalancedSampler", "LabelShufflingSampler", "RandomOverSampler", "RandomUnderSampler",
           "RepeatFactorSampler"]


class RebalanceSampler(Sampler[int]):
    """Sampler over sample indices for any strategy of :data:`~lt_core.rebalance.sampling.STRATEGIES`.

    Parameters
    ----------
    y : array (N,) int
        Class index of each training sample (for ``rfs`` with ``repeat_factors`` it may be None).
    n_classes : int, optional
    strategy : str
    seed : int
    num_epochs : int, optional
        T for ``progressive``.
    **params
        Passed to :func:`epoch_indices` (``num_samples``, ``q``, ``target``, ``threshold``,
        ``repeat_factors``).
    """

    def __init__(self, y, n_classes: int | None = None, strategy: str = "class-balanced", *, seed: int = 0,
                 num_epochs: int | None = None, **params) -> None:
        self.strategy = strategy
        self.seed = int(seed)
        self.num_epochs = num_epochs
        self.params = params
        self.epoch = 0
        if y is None and strategy == "rfs" and params.get("repeat_factors") is not None:
            self.y, self.n_classes = None, None
        else:
            self.y, self.n_classes = check_labels(y, n_classes)
        self._cache: tuple[int, np.ndarray] | None = None

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch the next iteration yields."""
        self.epoch = int(epoch)

    def indices(self, epoch: int | None = None) -> np.ndarray:
        """The index list of one epoch (default: the next one), int64."""
        e = self.epoch if epoch is None else int(epoch)
        if self._cache is not None and self._cache[0] == e:
            return self._cache[1]
        if self.y is None:
            idx = stochastic_repeat_indices(self.params["repeat_factors"], rng_for(self.seed, e))
        else:
            idx = epoch_indices(self.y, self.n_classes, self.strategy, epoch=e, seed=self.seed,
                                num_epochs=self.num_epochs, **self.params)
        self._cache = (e, idx)
        return idx

    def __iter__(self) -> Iterator[int]:
        idx = self.indices()
        self.epoch += 1
        return iter(idx.tolist())

    def __len__(self) -> int:
        return int(self.indices().size)


class InstanceBalancedSampler(RebalanceSampler):
    """Every sample once per epoch, shuffled."""

    def __init__(self, y, n_classes=None, *, seed: int = 0, **params):
        super().__init__(y, n_classes, "instance", seed=seed, **params)


class ClassBalancedSampler(RebalanceSampler):
    """Class uniformly, then a sample of it (Kang et al. 2020); ``num_samples`` per epoch (default N)."""

    def __init__(self, y, n_classes=None, *, seed: int = 0, **params):
        super().__init__(y, n_classes, "class-balanced", seed=seed, **params)


class SquareRootSampler(RebalanceSampler):
    """Class with probability ∝ sqrt(n_j), then a sample of it (Mahajan et al. 2018; Kang et al. 2020)."""

    def __init__(self, y, n_classes=None, *, seed: int = 0, **params):
        super().__init__(y, n_classes, "sqrt", seed=seed, **params)


class ProgressivelyBalancedSampler(RebalanceSampler):
    """Instance- to class-balanced over ``num_epochs`` epochs (Kang et al. 2020)."""

    def __init__(self, y, n_classes=None, *, num_epochs: int, seed: int = 0, **params):
        super().__init__(y, n_classes, "progressive", seed=seed, num_epochs=num_epochs, **params)


class LabelShufflingSampler(RebalanceSampler):
    """Class reshuffling / label shuffling (Shen et al. 2016): every class max_j n_j times per epoch."""

    def __init__(self, y, n_classes=None, *, seed: int = 0, **params):
        super().__init__(y, n_classes, "label-shuffling", seed=seed, **params)


class RandomOverSampler(RebalanceSampler):
    """Every sample once plus random repeats up to ``target`` per class (default: the largest class)."""

    def __init__(self, y, n_classes=None, *, target: int | None = None, seed: int = 0, **params):
        super().__init__(y, n_classes, "over", seed=seed, target=target, **params)


class RandomUnderSampler(RebalanceSampler):
    """At most ``target`` random samples per class (default: the smallest class), fresh each epoch."""

    def __init__(self, y, n_classes=None, *, target: int | None = None, seed: int = 0, **params):
        super().__init__(y, n_classes, "under", seed=seed, target=target, **params)


class RepeatFactorSampler(RebalanceSampler):
    """Repeat factor sampling (Gupta et al. 2019): from labels (``threshold``) or per-sample ``repeat_factors``.

    With ``repeat_factors`` (e.g. :attr:`lt_core.rebalance.rfs.RepeatFactors.image_factors`) it is the
    same as detectron2's ``RepeatFactorTrainingSampler`` (stochastic rounding, shuffled, one epoch per pass).
    """

    def __init__(self, y=None, n_classes=None, *, threshold: float = 1e-3, repeat_factors=None, seed: int = 0,
                 **params):
        if repeat_factors is not None:
            params["repeat_factors"] = np.asarray(repeat_factors, dtype=np.float64)
        else:
            params["threshold"] = threshold
        super().__init__(y, n_classes, "rfs", seed=seed, **params)
