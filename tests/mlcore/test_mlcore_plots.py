"""Training curves stay readable on the shortest runs: a one-epoch training shows its point."""

import matplotlib.pyplot as plt

from mlcore.ssl.plots import training_curves_figure, training_curves_png


def _history(epochs: int) -> list[dict]:
    return [
        {"epoch": e, "loss_x": 0.7 / e, "loss_u": 0.1, "train_accuracy": 0.5, "val_accuracy": None}
        for e in range(1, epochs + 1)
    ]


def test_one_epoch_is_drawn_as_points_on_a_whole_epoch_axis():
    fig = training_curves_figure(_history(1))
    try:
        left, right = fig.axes
        assert {line.get_label() for line in left.lines} == {"loss_x", "loss_u"}
        assert all(line.get_marker() == "o" for line in left.lines + right.lines)
        assert [line.get_label() for line in right.lines] == ["train_accuracy"]  # no validation labels
        for ax in (left, right):
            assert list(ax.get_xticks()) == [1]
            assert ax.get_xlim() == (0.5, 1.5)
    finally:
        plt.close(fig)


def test_long_runs_are_lines_with_whole_epoch_ticks():
    fig = training_curves_figure(_history(40))
    try:
        left, _ = fig.axes
        assert all(line.get_marker() in (None, "None", "") for line in left.lines)
        ticks = [t for t in left.get_xticks() if 1 <= t <= 40]
        assert ticks and all(float(t).is_integer() for t in ticks)
    finally:
        plt.close(fig)


def test_the_png_is_an_image():
    assert training_curves_png(_history(3)).startswith(b"\x89PNG")
