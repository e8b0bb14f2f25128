"""Consensus from votes under a known volunteer confusion (mlcore.active.labels)."""

import numpy as np
import pytest

from mlcore.active.labels import confusion_from_counts, confusion_posterior


def test_posterior_matches_bayes_rule_worked_by_hand():
    confusion = np.array([[0.6, 0.4], [0.1, 0.9]])
    # two votes for 0, one for 1: P(votes | 0) = 0.6^2 0.4, P(votes | 1) = 0.1^2 0.9
    post = confusion_posterior(np.array([[2, 1]]), confusion)
    like0, like1 = 0.6**2 * 0.4, 0.1**2 * 0.9
    np.testing.assert_allclose(post[0], [like0 / (like0 + like1), like1 / (like0 + like1)])


def test_a_split_vote_goes_to_the_class_whose_voters_rarely_stray():
    # true 0 draws vote 1 often; true 1 almost never draws vote 0: one vote for 0 is strong evidence
    confusion = np.array([[0.55, 0.45], [0.05, 0.95]])
    post = confusion_posterior(np.array([[1, 2]]), confusion)
    assert post[0].argmax() == 0  # the majority (1) is overruled


def test_a_symmetric_confusion_agrees_with_the_majority():
    confusion = np.array([[0.8, 0.2], [0.2, 0.8]])
    tallies = np.array([[5, 0], [3, 2], [2, 3], [0, 5]])
    np.testing.assert_array_equal(confusion_posterior(tallies, confusion).argmax(axis=1), [0, 0, 1, 1])


def test_prior_and_no_votes():
    confusion = np.array([[0.7, 0.3], [0.3, 0.7]])
    post = confusion_posterior(np.array([[0, 0]]), confusion, prior=np.array([3.0, 1.0]))
    np.testing.assert_allclose(post[0], [0.75, 0.25])  # nothing heard: the prior, normalised


def test_a_vote_the_confusion_rules_out_for_one_class_rules_that_class_out():
    confusion = np.array([[1.0, 0.0], [0.2, 0.8]])
    post = confusion_posterior(np.array([[4, 1]]), confusion)
    np.testing.assert_allclose(post[0], [0.0, 1.0])


def test_posterior_lowers_the_error_of_an_asymmetric_crowd():
    rng = np.random.default_rng(0)
    confusion = np.array(
        [[0.42, 0.15, 0.09, 0.34], [0.22, 0.51, 0.07, 0.2], [0.14, 0.07, 0.52, 0.27], [0.16, 0.05, 0.03, 0.76]]
    )
    truth = rng.integers(0, 4, 20_000)
    votes = np.stack([rng.choice(4, size=5, p=confusion[t]) for t in truth])
    tallies = np.stack([(votes == c).sum(axis=1) for c in range(4)], axis=1)
    majority = (tallies + rng.random(tallies.shape) * 0.5).argmax(axis=1)
    posterior = confusion_posterior(tallies, confusion).argmax(axis=1)
    assert (posterior != truth).mean() < (majority != truth).mean() - 0.03


def test_confusion_from_counts_smooths_and_normalises():
    confusion = confusion_from_counts(np.array([[8, 0], [1, 9]]), smoothing=1)
    np.testing.assert_allclose(confusion, [[0.9, 0.1], [2 / 12, 10 / 12]])
    np.testing.assert_allclose(confusion_from_counts(np.array([[3, 1], [0, 4]]), smoothing=0), [[0.75, 0.25], [0, 1]])


@pytest.mark.parametrize(
    "tallies, confusion, prior, message",
    [
        (np.array([[1, 0, 0]]), np.eye(2), None, "tallies"),
        (np.array([[1, 0]]), np.array([[0.5, 0.6], [0.5, 0.5]]), None, "distribution"),
        (np.array([[1, 0]]), np.eye(2) * 0.5 + 0.25, np.array([1.0, 0.0]), "positive"),
        (np.array([[1, 1]]), np.eye(2), None, "impossible"),
    ],
)
def test_bad_input_is_refused_with_a_message(tallies, confusion, prior, message):
    with pytest.raises(ValueError, match=message):
        confusion_posterior(tallies, confusion, prior)


@pytest.mark.parametrize(
    "counts, smoothing, message",
    [
        (np.ones((2, 3)), 1, "square"),
        (np.array([[1, -1], [0, 1]]), 1, "non-negative"),
        (np.eye(2), -1, "smoothing"),
        (np.array([[0, 0], [1, 1]]), 0, "no gold"),
    ],
)
def test_confusion_from_counts_refuses_bad_counts(counts, smoothing, message):
    with pytest.raises(ValueError, match=message):
        confusion_from_counts(counts, smoothing)
