"""Statistical checks for exercises whose output is random (samplers, replay buffers, dropout).

Example:
    >>> import torch
    >>> counts = torch.tensor([250., 250., 500.])
    >>> stat, p = chi_square(counts, torch.tensor([0.25, 0.25, 0.5]))
    >>> p > 0.99
    True
"""

from __future__ import annotations

import torch

from hubkit.check.spec import CheckFailure


def chi_square(counts: torch.Tensor, probs: torch.Tensor) -> tuple[float, float]:
    """Pearson's chi-squared statistic and p-value of observed `counts` against `probs`.

    Args:
        counts: (N,) observed frequencies.
        probs: (N,) expected probabilities (normalized here); categories with
            probability 0 must have count 0.

    Returns:
        (statistic, p-value) with N' - 1 degrees of freedom, N' = categories with p > 0.
    """
    counts = counts.double().flatten()
    probs = probs.double().flatten() / probs.double().sum()
    if bool((counts[probs == 0] > 0).any()):
        return float("inf"), 0.0
    keep = probs > 0
    expected = probs[keep] * counts.sum()
    stat = float(((counts[keep] - expected) ** 2 / expected).sum())
    dof = int(keep.sum()) - 1
    if dof < 1:
        return stat, 1.0
    p = float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64),
                                      torch.tensor(stat / 2, dtype=torch.float64)))
    return stat, p


def expect_frequencies(counts: torch.Tensor, probs: torch.Tensor, what: str,
                       alpha: float = 1e-4) -> float:
    """Raise CheckFailure when `counts` are implausible under `probs` (p < alpha); return p.

    Choose the sample size so a wrong sampler fails with near certainty; a
    correct one then fails about once in 1/alpha runs.
    """
    stat, p = chi_square(counts, probs)
    if p < alpha:
        worst = int(((counts.double() - probs.double() / probs.double().sum() * counts.sum())
                     .abs()).argmax())
        raise CheckFailure(f"{what}: the frequencies do not follow the expected probabilities "
                           f"(chi-squared {stat:.1f}, p = {p:.1e}; furthest off: index {worst})")
    return p
