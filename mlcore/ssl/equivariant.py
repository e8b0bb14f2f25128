"""A group-equivariant CNN after Scaife & Porter (MNRAS 503, 2369, 2021, arXiv:2102.08252): their
D_N-steerable LeNet, built from ``escnn`` (the successor of the ``e2cnn`` they used).

Two steerable convolutions (R2Conv, 5x5, padding 1) in regular fields of the dihedral group D_N
(6 then 16 fields), each followed by batch normalisation, ReLU and 2x2 max pooling; group pooling
(max over each field's group elements) makes the maps invariant in their channels and equivariant
in space; an average pooling to 4 x 4 then gives 256 features (the size of the Tang CNN's, so that
features, the Frechet distance and similarity stay comparable), and a fully connected head as the
Tang CNN's. Radio sources have no preferred orientation: a rotation of the cutout by any multiple of
360/N degrees or a mirror image rotates the feature maps with it, exactly for right angles and
flips on the pixel grid (``tests/ml/test_equivariant.py``); rotation test-time averaging
(``SSLClassifier.predict_proba(rotations=True)``) makes the prediction itself invariant to them.

``escnn`` is imported here only: the other architectures work without it.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .config import EQUIVARIANT_ORDERS, NetworkConfig

FIELDS = (6, 16)  # regular fields of the two steerable convolutions (Scaife & Porter's LeNet)
POOLED = 4  # group-pooled maps are averaged down to POOLED x POOLED


def _escnn():
    """``(gspaces, enn)``; ImportError naming the install step when escnn is missing."""
    try:
        with warnings.catch_warnings():
            # py3nj only speeds up SO(3) Clebsch-Gordan coefficients; the planar groups never use them
            warnings.filterwarnings("ignore", message=".*py3nj.*")
            from escnn import gspaces
            from escnn import nn as enn
            from escnn.group import _numerical
    except ImportError as exc:
        raise ImportError(
            f"the equivariant architectures need escnn ({exc}); install it with `make install` "
            "(requirements-nodeps.txt and tools/build_lie_learn.py)"
        ) from exc
    # escnn 1.0.11 hands numpy matrices to scikit-learn's randomized_svd, which scikit-learn >= 1.6
    # refuses (TypeError: np.matrix is not supported); without it escnn takes scipy's exact SVD.
    _numerical.randomized_svd = None
    return gspaces, enn


class EquivariantCNN(nn.Module):
    """(B, C, S, S) -> (B, n_classes) logits, equivariant to D_N (N = 16 for ``d16``, 8 for ``d8``)
    up to the fully connected head."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        gspaces, enn = _escnn()
        self.config = config
        self.group_order = EQUIVARIANT_ORDERS[config.architecture]
        space = gspaces.flipRot2dOnR2(N=self.group_order)
        in_type = enn.FieldType(space, config.in_channels * [space.trivial_repr])
        self.input_type = in_type
        self._geometric_tensor = enn.GeometricTensor
        layers = []
        for n_fields in FIELDS:
            out_type = enn.FieldType(space, n_fields * [space.regular_repr])
            layers += [
                enn.R2Conv(in_type, out_type, kernel_size=5, padding=1),
                enn.InnerBatchNorm(out_type),
                enn.ReLU(out_type, inplace=True),
                enn.PointwiseMaxPool2D(out_type, 2),
            ]
            in_type = out_type
        layers.append(enn.GroupPooling(in_type))
        self.trunk = enn.SequentialModule(*layers)
        self.pool = nn.AdaptiveAvgPool2d(POOLED)
        self.n_features = FIELDS[-1] * POOLED * POOLED
        width, head = self.n_features, []
        for _ in range(3):
            head += [nn.Linear(width, 256), nn.ReLU(inplace=True), nn.Dropout(config.dropout)]
            width = 256
        head.append(nn.Linear(width, config.n_classes))
        self.head = nn.Sequential(*head)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) -> (B, 16, S', S') group-pooled maps: invariant channels, equivariant space."""
        return self.trunk(self._wrap(x)).tensor

    def _wrap(self, x: torch.Tensor):
        return self._geometric_tensor(x.contiguous(), self.input_type)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) -> (B, 256) pooled invariant features."""
        return self.pool(self.feature_maps(x)).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) -> (B, n_classes) logits."""
        return self.head(self.embed(x))
