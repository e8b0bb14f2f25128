"""Generators of radio-source images: a class-conditional diffusion model with residual attention
blocks (and diffusers' plain U-Net for ablation), a conditional VAE baseline, and the measures
that judge generated sources against real ones."""
