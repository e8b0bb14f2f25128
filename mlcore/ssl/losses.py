"""Loss functions of FixMatch, pure: tensors in, tensors out, no training loop."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pseudo_labels(logits_weak: torch.Tensor, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(U, K) logits of weakly augmented images -> ((U,) argmax labels, (U,) float mask of max prob >= tau)."""
    probs = torch.softmax(logits_weak.detach(), dim=1)
    confidence, labels = probs.max(dim=1)
    return labels, (confidence >= tau).float()


def fixmatch_loss(
    logits_labelled: torch.Tensor,
    targets: torch.Tensor,
    logits_weak: torch.Tensor | None,
    logits_strong: torch.Tensor | None,
    *,
    tau: float,
    lambda_u: float,
) -> tuple[torch.Tensor, dict[str, float]]:
    """CE(labelled) + lambda_u x mean_u[mask x CE(strong, argmax weak)].

    (B, K), (B,), (U, K), (U, K) -> (scalar loss, {"loss_x", "loss_u", "mask_rate"}). Without
    unlabelled logits the loss is the supervised cross-entropy alone.
    """
    loss_x = F.cross_entropy(logits_labelled, targets)
    if logits_weak is None or logits_strong is None or logits_weak.shape[0] == 0:
        return loss_x, {"loss_x": float(loss_x.detach()), "loss_u": 0.0, "mask_rate": 0.0}
    labels, mask = pseudo_labels(logits_weak, tau)
    loss_u = (F.cross_entropy(logits_strong, labels, reduction="none") * mask).mean()
    loss = loss_x + lambda_u * loss_u
    return loss, {"loss_x": float(loss_x.detach()), "loss_u": float(loss_u.detach()), "mask_rate": float(mask.mean())}
