"""The contrastive loss as a pure function."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z_a: torch.Tensor, z_b: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent (SimCLR): z_a, z_b (B, D) projections of two views of the same B cutouts -> scalar.

    Each of the 2B views must pick out its partner among the other 2B - 1 by cosine similarity /
    temperature (cross-entropy); ln(2B - 1) is chance."""
    if z_a.shape != z_b.shape or z_a.ndim != 2:
        raise ValueError(
            f"expected two (B, D) projections of the same shape, got {tuple(z_a.shape)}, {tuple(z_b.shape)}"
        )
    batch = z_a.shape[0]
    z = F.normalize(torch.cat([z_a, z_b]), dim=1)  # (2B, D)
    logits = z @ z.T / temperature  # (2B, 2B)
    logits = logits.masked_fill(torch.eye(2 * batch, dtype=torch.bool, device=z.device), float("-inf"))
    partner = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)]).to(z.device)
    return F.cross_entropy(logits, partner)
