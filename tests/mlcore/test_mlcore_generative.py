"""The generators and the measures that judge them: tiny shapes, CPU, fixed seeds."""

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlcore.generative import metrics
from mlcore.generative.background import clip_background
from mlcore.generative.config import DEFAULT_MIX, DiffusionConfig, UNetConfig, VAEConfig, preset
from mlcore.generative.diffusion import (
    DiffusionGenerator,
    GeneratorDataError,
    noise_scheduler,
    sampling_scheduler,
)
from mlcore.generative.network import RABUNet, ResidualAttentionBlock, build_network, parameter_count
from mlcore.generative.vae import VAEGenerator

SIZE = 16


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def tiny(**overrides) -> DiffusionConfig:
    config = preset("tiny", image_size=SIZE, n_classes=2, max_steps=4, sample_steps=3)
    return replace(config, **overrides)


def blobs(n: int, seed: int = 0):
    """Class 0: one central blob; class 1: two blobs (a double), in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE / 2
    images, labels = [], []
    for i in range(n):
        label = i % 2
        if label == 0:
            image = np.exp(-(xx**2 + yy**2) / 4.0)
        else:
            image = np.exp(-((xx - 4) ** 2 + yy**2) / 2.0) + np.exp(-((xx + 4) ** 2 + yy**2) / 2.0)
        image = image + rng.normal(0, 0.01, image.shape)
        images.append(np.clip(image / image.max(), 0, 1))
        labels.append(label)
    return np.array(images, dtype=np.float32)[:, None], np.array(labels)


@pytest.mark.parametrize("network", ["rab", "plain"])
def test_networks_predict_noise_of_the_input_shape_for_every_class_and_none(network):
    config = UNetConfig(network=network, image_size=SIZE, n_classes=3, base_channels=16, channel_mults=(1, 2))
    model = build_network(config)
    x = torch.randn(4, 1, SIZE, SIZE)
    out = model(x, torch.tensor([0, 10, 500, 999]), torch.tensor([0, 1, 2, config.null_class]))
    assert out.shape == (4, 1, SIZE, SIZE) and torch.isfinite(out).all()


def test_residual_attention_blocks_start_as_the_identity_and_gate_half_and_half():
    model = RABUNet(UNetConfig(image_size=SIZE, n_classes=2, base_channels=16, channel_mults=(1, 2), mix="gated"))
    out = model(torch.randn(2, 1, SIZE, SIZE), torch.tensor([3, 4]), torch.tensor([0, 1]))
    assert torch.count_nonzero(out) == 0  # zero-initialised last layers: a stable start
    block = model.down[0]
    emb = torch.zeros(1, 4 * 16)
    gate = torch.sigmoid(block.gate_embed(emb))
    assert torch.allclose(gate, torch.full_like(gate, 0.5), atol=0.3)


def test_block_ablations_drop_the_gate_or_the_attention_branch():
    def model(mix):
        return RABUNet(UNetConfig(image_size=SIZE, n_classes=2, base_channels=16, channel_mults=(1, 2), mix=mix))

    names = {mix: {name for name, _ in model(mix).named_parameters()} for mix in ("gated", "fixed", "local")}
    assert any(".gate_embed." in name for name in names["gated"])
    assert not any(".gate_" in name for name in names["fixed"]) and any(".attention." in n for n in names["fixed"])
    assert not any(".gate_" in name or ".attention." in name for name in names["local"])
    assert names["local"] < names["fixed"] < names["gated"]  # each ablation only removes parts
    x, t, y = torch.randn(2, 1, SIZE, SIZE), torch.tensor([3, 900]), torch.tensor([0, 2])
    for mix in ("fixed", "local"):
        net = model(mix)
        for parameter in net.parameters():  # past the identity start, so each branch shows
            torch.nn.init.normal_(parameter, std=0.05)
        block, emb = net.down[0], torch.randn(2, 4 * 16)
        h = net.stem(x)
        base = block.skip(h)
        local = block.conv2(F.silu(block.norm2(block.conv1(F.silu(block.norm1(h, emb))), emb)))
        expected = base + local if mix == "local" else base + 0.5 * (local + block.attention(base, emb))
        assert torch.allclose(block(h, emb), expected, atol=1e-6)
        assert block.branches(h, emb)[3] is None and (block.branches(h, emb)[2] is None) == (mix == "local")
        assert net(x, t, y).shape == x.shape
    with pytest.raises(ValueError, match="mix"):
        UNetConfig(mix="sum")
    with pytest.raises(ValueError, match="network must be 'rab'"):
        UNetConfig(network="plain", mix="local")
    assert preset("tiny", mix="local").unet.mix == "local"


def test_the_lowest_mix_gates_only_the_lowest_resolution_and_the_middle():
    config = UNetConfig(image_size=SIZE, n_classes=2, base_channels=16, channel_mults=(1, 2, 2), mix="lowest")
    net = RABUNet(config)
    lowest = SIZE // 4  # two halvings
    x, t, y = torch.randn(2, 1, SIZE, SIZE), torch.tensor([3, 900]), torch.tensor([0, 2])
    seen: dict = {}

    def record(block, args):
        seen[block] = args[0].shape[-1]

    hooks = [block.register_forward_pre_hook(record) for part in (net.down, net.middle, net.up) for block in part]
    assert net(x, t, y).shape == x.shape
    for hook in hooks:
        hook.remove()
    assert len(seen) == len(net.down) + len(net.middle) + len(net.up)
    for block, width in seen.items():  # gated exactly where the map is smallest, local elsewhere
        assert block.mix == ("gated" if width == lowest else "local"), (block.mix, width)
    assert {block.mix for block in net.middle} == {"gated"}
    assert sum(block.mix == "gated" for block in seen) == 5  # one down, two middle, two up
    full = RABUNet(replace(config, mix="gated"))
    assert parameter_count(RABUNet(replace(config, mix="local"))) < parameter_count(net) < parameter_count(full)
    with pytest.raises(ValueError, match="a block's mix"):
        ResidualAttentionBlock(16, 16, 64, 1, 4, 0.0, mix="lowest")


def test_configs_refuse_what_cannot_work():
    with pytest.raises(ValueError, match="network"):
        UNetConfig(network="transformer")
    with pytest.raises(ValueError, match="divide"):
        UNetConfig(image_size=30, channel_mults=(1, 2, 2))
    with pytest.raises(ValueError, match="sampler"):
        DiffusionConfig(sampler="euler")
    with pytest.raises(ValueError, match="preset"):
        preset("huge")
    with pytest.raises(ValueError, match="prediction_type"):
        DiffusionConfig(prediction_type="sample")
    assert DiffusionConfig.from_dict(tiny().as_dict()) == tiny()
    dropped = ("prediction_type", "noise_clip", "noise_estimate")
    legacy = {key: value for key, value in tiny().as_dict().items() if key not in dropped}
    assert DiffusionConfig.from_dict(legacy).prediction_type == "epsilon"  # weights saved before v
    assert DiffusionConfig.from_dict(legacy).noise_clip == 0.0  # older versions sample as they did
    clipped_before = {**legacy, "noise_clip": 3.0}
    assert DiffusionConfig.from_dict(clipped_before).noise_estimate == "below-background"
    assert tiny().noise_estimate == "sigma-clipped"
    with pytest.raises(ValueError, match="noise_clip"):
        DiffusionConfig(noise_clip=-1)
    with pytest.raises(ValueError, match="noise_estimate"):
        DiffusionConfig(noise_estimate="mode")


def test_diffusers_schedulers_are_used_for_noise_and_sampling():
    config = tiny()
    assert type(noise_scheduler(config)).__name__ == "DDPMScheduler"
    assert type(sampling_scheduler(config)).__name__ == "DPMSolverMultistepScheduler"
    assert type(sampling_scheduler(config, "ddim")).__name__ == "DDIMScheduler"


def test_training_lowers_the_loss_and_sampling_is_reproducible():
    x, y = blobs(32)
    config = tiny(max_steps=None, epochs=12, batch_size=16, lr=2e-3)
    generator = DiffusionGenerator(config).fit(x, y)
    losses = [row["loss"] for row in generator.history_]
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    first = generator.sample([0, 1, 1], seed=7)
    assert first.shape == (3, 1, SIZE, SIZE) and first.min() >= 0 and first.max() <= 1
    assert np.array_equal(first, generator.sample([0, 1, 1], seed=7))
    assert not np.array_equal(first, generator.sample([0, 1, 1], seed=8))
    assert generator.sample([1], sampler="ddim", guidance=1.0).shape == (1, 1, SIZE, SIZE)
    with pytest.raises(ValueError, match="classes"):
        generator.sample([2])


def test_an_interrupted_training_resumes_exactly(tmp_path):
    x, y = blobs(16)
    config = tiny(max_steps=None, epochs=4, batch_size=8)

    class Crash(Exception):
        """The worker dies after the second epoch."""

    def crash_after_two(epoch, total, row):
        if epoch == 2:
            raise Crash

    path = tmp_path / "diffusion.ckpt"
    with pytest.raises(Crash):
        DiffusionGenerator(config, checkpoint_path=path, progress=crash_after_two).fit(x, y)
    resumed = DiffusionGenerator(config, checkpoint_path=path).fit(x, y)
    straight = DiffusionGenerator(config).fit(x, y)
    assert resumed.resumed_from_epoch_ == 2
    assert [r["loss"] for r in resumed.history_] == [r["loss"] for r in straight.history_]
    for name, weights in straight.model_.state_dict().items():
        assert torch.equal(weights, resumed.model_.state_dict()[name]), name
    saved = tmp_path / "weights.pt"
    resumed.save(saved)
    assert np.array_equal(DiffusionGenerator.load(saved).sample([0, 1], seed=1), resumed.sample([0, 1], seed=1))


def test_a_checkpoint_saved_before_a_setting_existed_resumes_with_its_default(tmp_path):
    x, y = blobs(16)
    path = tmp_path / "diffusion.ckpt"
    default = tiny(max_steps=None, epochs=2, batch_size=8)
    config = replace(default, unet=replace(default.unet, mix="gated"))  # what every block was then

    def crash_after_one(epoch, total, row):
        if epoch == 1:
            raise KeyboardInterrupt

    def saved_without_mix():
        path.unlink(missing_ok=True)
        with pytest.raises(KeyboardInterrupt):
            DiffusionGenerator(config, checkpoint_path=path, progress=crash_after_one).fit(x, y)
        state = torch.load(path, weights_only=False)
        del state["config"]["unet"]["mix"]  # as versions without the block ablations wrote it
        torch.save(state, path)

    saved_without_mix()
    assert DiffusionGenerator(config, checkpoint_path=path).fit(x, y).resumed_from_epoch_ == 1
    # A different setting is a different run: it starts over rather than resume another's weights,
    # the default layout included (it is not the gated layout those versions were trained with).
    for other in (replace(config, unet=replace(config.unet, mix="fixed")), default):
        saved_without_mix()
        assert DiffusionGenerator(other, checkpoint_path=path).fit(x, y).resumed_from_epoch_ == 0


def test_saved_settings_read_back_as_the_network_they_built():
    default = preset("tiny", n_classes=2)
    assert default.unet.mix == DEFAULT_MIX == "lowest"
    saved = default.as_dict()
    del saved["unet"]["mix"]  # saved before the mix was a setting: every block was gated
    assert DiffusionConfig.from_dict(saved).unet.mix == "gated"
    assert DiffusionConfig.from_dict(default.as_dict()) == default
    # The plain U-Net has no blocks to mix; saved while the default was "gated" it still reads back.
    plain = preset("tiny", n_classes=2, network="plain")
    old_plain = plain.as_dict()
    old_plain["unet"]["mix"] = "gated"
    assert DiffusionConfig.from_dict(old_plain) == plain
    with pytest.raises(ValueError, match="network must be 'rab'"):
        preset("tiny", network="plain", mix="gated")


def test_a_training_checkpoint_loads_its_ema_weights_for_sampling(tmp_path):
    x, y = blobs(16)
    path = tmp_path / "diffusion-seed0.ckpt"
    fitted = DiffusionGenerator(tiny(max_steps=None, epochs=2, batch_size=8), checkpoint_path=path).fit(x, y)
    loaded = DiffusionGenerator.load(path)
    for name, weights in fitted.model_.state_dict().items():
        assert torch.equal(weights, loaded.model_.state_dict()[name]), name
    assert [r["epoch"] for r in loaded.history_] == [1, 2]
    assert np.array_equal(loaded.sample([0, 1], seed=2), fitted.sample([0, 1], seed=2))


def test_bad_training_data_is_refused_with_the_reason():
    x, y = blobs(4)
    with pytest.raises(GeneratorDataError, match="labels must lie"):
        DiffusionGenerator(tiny()).fit(x, np.array([0, 1, 2, 0]))
    with pytest.raises(GeneratorDataError, match=r"\(N, 1, 16, 16\)"):
        DiffusionGenerator(tiny()).fit(x[:, :, :8, :8], y)
    with pytest.raises(GeneratorDataError, match="NaN"):
        DiffusionGenerator(tiny()).fit(np.full_like(x, np.nan), y)
    with pytest.raises(GeneratorDataError, match="no training images"):
        VAEGenerator(VAEConfig(image_size=SIZE, n_classes=2)).fit(x[:0], y[:0])


def test_vae_learns_and_samples_each_class(tmp_path):
    x, y = blobs(32)
    config = VAEConfig(image_size=SIZE, n_classes=2, hidden=(64, 32), latent=4, epochs=30, batch_size=16, lr=3e-3)
    vae = VAEGenerator(config).fit(x, y)
    assert vae.history_[-1]["loss"] < vae.history_[0]["loss"]
    samples = vae.sample([0] * 8 + [1] * 8, seed=2)
    assert samples.shape == (16, 1, SIZE, SIZE)
    # a one-blob sample is brightest at the centre, a double is not
    centre = samples[:, 0, SIZE // 2, SIZE // 2]
    assert centre[:8].mean() > centre[8:].mean()
    vae.save(tmp_path / "vae.pt")
    assert np.array_equal(VAEGenerator.load(tmp_path / "vae.pt").sample([1], seed=3), vae.sample([1], seed=3))


def test_ramis_and_class_consistency_known_answers():
    assert metrics.ramis(np.full((10, 2), 0.5)) == pytest.approx(1.0)
    confident = np.array([[1.0, 0.0], [0.0, 1.0]] * 5)
    assert metrics.ramis(confident) == pytest.approx(2.0, rel=1e-6)
    assert metrics.class_consistency(confident, np.array([0, 1] * 5)) == 1.0
    assert metrics.class_consistency(confident, np.array([1, 0] * 5)) == 0.0


def test_source_properties_count_components_and_measure_extent():
    x, y = blobs(4)
    properties = metrics.source_properties(x)
    assert list(properties["components"]) == [1, 2, 1, 2]
    assert properties["extent"][1] > properties["extent"][0] > 0
    assert metrics.property_ks(x, x) == {"flux": 0.0, "extent": 0.0, "components": 0.0}
    assert metrics.property_ks(x[y == 0], x[y == 1])["components"] == 1.0


def test_memorisation_share_flags_copies():
    rng = np.random.default_rng(0)
    train, test = rng.random((40, 1, 8, 8)), rng.random((40, 1, 8, 8))
    copied, real = metrics.memorisation_share(train[:20] + 1e-3, train, test)
    fresh, _ = metrics.memorisation_share(rng.random((20, 1, 8, 8)), train, test)
    assert copied == 1.0 and 0.2 < real < 0.8 and 0.2 < fresh < 0.8


def test_diversity_is_the_mean_pairwise_distance():
    assert metrics.diversity(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    assert metrics.diversity(np.zeros((5, 3))) == 0.0


def test_previews_during_training_change_nothing_learned():
    """A sample grid drawn from ``progress`` while training (the EMA weights so far) leaves the
    training's random state and so its result untouched."""
    x, y = blobs(16)
    config = tiny(max_steps=None, epochs=3, batch_size=8)
    previews = []
    watched = DiffusionGenerator(config)
    watched.progress = lambda epoch, total, row: previews.append(watched.sample([0, 1], seed=epoch, steps=2))
    watched.fit(x, y)
    plain = DiffusionGenerator(config).fit(x, y)
    assert len(previews) == 3 and previews[0].shape == (2, 1, SIZE, SIZE)
    for name, weights in plain.model_.state_dict().items():
        assert torch.equal(weights, watched.model_.state_dict()[name]), name


class _ExactDenoiser(torch.nn.Module):
    """The Bayes-optimal network for a data set of one image per class: what it predicts is
    computed from the known image, so a sampler fed with it must return that image."""

    def __init__(self, images: torch.Tensor, scheduler):
        super().__init__()
        self.images, self.scheduler = images, scheduler
        self.weight = torch.nn.Parameter(torch.zeros(1))  # ``sample`` reads the device from here

    def forward(self, x, t, y):
        alpha_bar = self.scheduler.alphas_cumprod[t].view(-1, 1, 1, 1)
        x0 = self.images[y.clamp(max=len(self.images) - 1)]
        noise = (x - alpha_bar.sqrt() * x0) / (1 - alpha_bar).sqrt()
        if self.scheduler.config.prediction_type == "epsilon":
            return noise
        return alpha_bar.sqrt() * noise - (1 - alpha_bar).sqrt() * x0


@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon"])
@pytest.mark.parametrize("sampler", ["dpmsolver++", "ddim", "ddpm"])
def test_every_sampler_returns_the_data_given_an_exact_denoiser(prediction_type, sampler):
    images, _ = blobs(2)
    config = tiny(prediction_type=prediction_type, sampler=sampler, sample_steps=10, noise_clip=0.0)
    generator = DiffusionGenerator(config)
    generator.model_ = _ExactDenoiser(torch.from_numpy(images * 2 - 1), noise_scheduler(config))
    samples = generator.sample([0, 1, 1, 0], guidance=1.0, seed=3)
    assert np.abs(samples - images[[0, 1, 1, 0]]).max() < 1e-3


def test_a_short_training_on_two_shapes_samples_clean_shapes_of_the_class_asked_for():
    # A network trained to predict the noise left this much noise in DPM-Solver++ samples after a
    # short run (background about 0.2 of the peak); predicting v removes it.
    x, y = blobs(64)
    config = tiny(max_steps=150, epochs=100, lr=1e-3, ema_decay=0.95, flips=False, sample_steps=15, noise_clip=0.0)
    generator = DiffusionGenerator(config).fit(x, y)
    samples = generator.sample([0] * 4 + [1] * 4, seed=1)[:, 0]
    prototypes = x[:2, 0]
    corner = samples[:, :3, :3]
    assert corner.mean() < 0.05, corner.mean()
    for sample, label in zip(samples, [0] * 4 + [1] * 4, strict=True):
        distances = [np.abs(sample - prototype).mean() for prototype in prototypes]
        assert int(np.argmin(distances)) == label
        assert distances[label] < 0.06, distances


def _with_background_noise(rms: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Blobs in the network's space (background exactly -1), and the same plus Gaussian noise."""
    images, _ = blobs(2, seed)
    clean = torch.from_numpy(np.where(images > 0.05, images, 0.0) * 2 - 1).float()
    return clean, clean + rms * torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("estimate", ["sigma-clipped", "below-background", "sigma-clipped-islands"])
def test_the_background_clip_removes_noise_and_keeps_the_source(estimate):
    clean, noisy = _with_background_noise(0.02)
    clipped = clip_background(noisy, 3.0, estimate=estimate)
    background = clean == -1
    source = clean > 0
    # Half the background is above -1 before the clip; after it only the far tail survives (the
    # noise is measured from about a hundred pixels an image, so the threshold itself varies).
    assert (noisy[background] > -1).float().mean() > 0.4
    assert (clipped[background] == -1).float().mean() > 0.98
    # The sources keep their pixels (the sigma-clipped level, near -1, is taken off them).
    assert (clipped[source] - noisy[source]).abs().max() < 0.01
    assert torch.equal(clip_background(noisy, 0.0, estimate=estimate), noisy)


def test_a_lifted_background_plate_is_clipped_and_its_level_taken_off_the_source():
    clean, noisy = _with_background_noise(0.02)
    plate = noisy + 0.15  # the whole image lifted: no pixel left below -1 to measure the noise by
    background, source = clean == -1, clean > 0
    assert (plate < -1).sum() == 0
    clipped = clip_background(plate, 3.0)
    assert (clipped[background] == -1).float().mean() > 0.98
    assert (clipped[source] - noisy[source]).abs().max() < 0.02
    # The estimate of versions saved before it finds too few pixels below -1 and leaves the plate.
    assert torch.equal(clip_background(plate, 3.0, estimate="below-background"), plate)
    with pytest.raises(ValueError, match="estimate"):
        clip_background(plate, 3.0, estimate="mode")


def test_the_island_rule_drops_stray_specks_and_keeps_a_faint_sources_wings():
    rms = 0.01
    noise = rms * torch.randn((1, 1, 32, 32), generator=torch.Generator().manual_seed(3))
    image = -1.0 + noise.clamp(-2.5 * rms, 2.5 * rms)
    image[0, 0, 4, 4] = -1.0 + 4 * rms  # a chance speck: above 3 sigma, below 5, on its own
    image[0, 0, 20, 20] = -1.0 + 8 * rms  # a faint source's peak ...
    image[0, 0, 20, 21] = image[0, 0, 21, 21] = -1.0 + 4 * rms  # ... and its wings, 4 sigma
    plain = clip_background(image, 3.0, estimate="sigma-clipped")
    islands = clip_background(image, 3.0, estimate="sigma-clipped-islands")
    assert plain[0, 0, 4, 4] > -1  # the plain clip keeps the speck
    assert islands[0, 0, 4, 4] == -1
    for pixel in ((20, 20), (20, 21), (21, 21)):  # the island keeps every pixel above 3 sigma
        assert islands[(0, 0, *pixel)] == plain[(0, 0, *pixel)] > -1
    assert (islands > -1).sum() == 3
    # Diagonal neighbours belong to the island (8-connected), a pixel two away does not.
    image[0, 0, 22, 22] = image[0, 0, 25, 25] = -1.0 + 4 * rms
    islands = clip_background(image, 3.0, estimate="sigma-clipped-islands")
    assert islands[0, 0, 22, 22] > -1 and islands[0, 0, 25, 25] == -1


def test_an_image_without_noise_keeps_its_source_and_background():
    clean, _ = _with_background_noise(0.02)
    assert torch.equal(clip_background(clean, 3.0), clean)


def test_samples_are_drawn_with_the_configured_clip_and_without_it_on_request():
    _, noisy = _with_background_noise(0.03)
    config = tiny(sample_steps=10, noise_clip=3.0)
    generator = DiffusionGenerator(config)
    generator.model_ = _ExactDenoiser(noisy, noise_scheduler(config))
    clipped = generator.sample([0, 1], guidance=1.0, seed=3)
    as_drawn = generator.sample([0, 1], guidance=1.0, seed=3, noise_clip=0.0)
    corner_clipped, corner_drawn = clipped[:, 0, :4, :4], as_drawn[:, 0, :4, :4]
    assert (corner_drawn > 0).mean() > 0.3  # speckle: about half the background is above it
    assert (corner_clipped > 0).mean() < 0.05
    assert np.array_equal(clipped > 0.3, as_drawn > 0.3)  # the sources are untouched


def test_one_pass_of_the_sampler_gives_every_clip_what_sample_gives():
    _, noisy = _with_background_noise(0.03)
    config = tiny(sample_steps=4, noise_clip=3.0)
    generator = DiffusionGenerator(config)
    generator.model_ = _ExactDenoiser(noisy, noise_scheduler(config))
    clips = {
        "none": (0.0, "sigma-clipped"),
        "old": (3.0, "below-background"),
        "islands": (3.0, "sigma-clipped-islands"),
    }
    calls = []
    generator.model_.register_forward_hook(lambda *_: calls.append(1))
    by_clip = generator.sample_with_clips([0, 1, 1], clips, guidance=1.0, seed=5, batch_size=2)
    assert len(calls) == 2 * 4  # two batches of four steps, whatever the number of clips
    for name, (sigma, estimate) in clips.items():
        alone = generator.sample(
            [0, 1, 1], guidance=1.0, seed=5, batch_size=2, noise_clip=sigma, noise_estimate=estimate
        )
        assert np.array_equal(by_clip[name], alone)
    assert not np.array_equal(by_clip["none"], by_clip["islands"])
    with pytest.raises(ValueError, match="noise_estimate must be one of"):
        generator.sample_with_clips([0], {"x": (3.0, "mode")})
    assert len(calls) == 2 * 4 + 3 * 2 * 4  # the bad estimate was refused before any drawing
