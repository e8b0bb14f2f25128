"""mlcore.features: a self-supervised encoder of radio cutouts (labels unused) whose features serve
diversity, novelty and similarity search."""

from mlcore.features.config import EncoderConfig
from mlcore.features.encoder import ContrastiveEncoder, EncoderWeightsError

__all__ = ["ContrastiveEncoder", "EncoderConfig", "EncoderWeightsError"]
