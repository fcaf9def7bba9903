"""The tf.data training pipeline: every image once per epoch, seeded, augmentations correct."""

import numpy as np

from helpers.backend import tf
from helpers.data.input_pipeline import (
    Augmentation,
    erase_batch,
    flip_batch,
    shift_batch,
    training_dataset,
)


def images_and_labels(count: int = 40) -> tuple[np.ndarray, np.ndarray]:
    generator = np.random.default_rng(0)
    return (generator.integers(1, 256, (count, 12, 10, 1), dtype=np.uint8),
            np.arange(count) % 4)


def epoch(dataset) -> tuple[np.ndarray, np.ndarray]:
    batches = list(dataset)
    return (np.concatenate([images.numpy() for images, _ in batches]),
            np.concatenate([labels.numpy() for _, labels in batches]))


def test_plain_pipeline_yields_every_image_once_per_epoch_reshuffled() -> None:
    images, labels = images_and_labels()
    dataset = training_dataset(images, labels, batch_size=16, seed=3)
    first_images, first_labels = epoch(dataset)
    second_images, _ = epoch(dataset)
    assert first_images.dtype == np.uint8 and len(first_images) == 40
    order = [int(np.flatnonzero((images == image).all(axis=(1, 2, 3)))[0])
             for image in first_images]
    assert sorted(order) == list(range(40))  # each image exactly once, with its label
    np.testing.assert_array_equal(labels[order], first_labels)
    assert not np.array_equal(first_images, second_images)  # a new order each epoch


def test_same_seed_same_augmented_batches() -> None:
    images, labels = images_and_labels()
    augmentation = Augmentation(flip=True, shift=0.2, erase=0.5)
    first, _ = epoch(training_dataset(images, labels, 16, 7, augmentation))
    again, _ = epoch(training_dataset(images, labels, 16, 7, augmentation))
    other, _ = epoch(training_dataset(images, labels, 16, 8, augmentation))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_flip_mirrors_about_half_of_the_images() -> None:
    images = tf.constant(np.random.default_rng(1).random((200, 5, 6, 1)), tf.float32)
    flipped = flip_batch(images, tf.constant([1, 2], tf.int64)).numpy()
    mirrored = [np.array_equal(out, image[:, ::-1]) for out, image in
                zip(flipped, images.numpy(), strict=True)]
    unchanged = [np.array_equal(out, image) for out, image in
                 zip(flipped, images.numpy(), strict=True)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 70 < sum(mirrored) < 130


def test_shift_moves_each_image_by_whole_pixels_and_fills_with_zeros() -> None:
    image = np.zeros((1, 10, 10, 1), np.float32)
    image[0, 4, 5, 0] = 1.0  # one bright pixel
    batch = tf.constant(np.repeat(image, 50, axis=0))
    shifted = shift_batch(batch, 0.2, tf.constant([0, 9], tf.int64)).numpy()
    positions = {tuple(np.argwhere(out[..., 0])[0]) for out in shifted}
    assert all(out.sum() == 1.0 for out in shifted)  # moved, not blurred or lost
    assert all(abs(row - 4) <= 2 and abs(col - 5) <= 2 for row, col in positions)
    assert len(positions) > 5  # each image its own offset


def test_erase_blacks_out_one_rectangle_with_the_given_probability() -> None:
    batch = tf.ones((400, 20, 20, 1))
    erased = erase_batch(batch, 0.5, tf.constant([4, 2], tf.int64)).numpy()
    changed = [(out == 0).any() for out in erased]
    assert 150 < sum(changed) < 250
    for out in erased[np.array(changed)][:20]:
        rows, cols = np.nonzero(out[..., 0] == 0)
        area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert area == len(rows)  # one filled rectangle
        assert 2 <= rows.max() - rows.min() + 1 <= 7


def test_rotation_and_zoom_move_pixels_reproducibly_and_zero_leaves_images_alone() -> None:
    from helpers.data.input_pipeline import rotate_zoom_batch

    images = np.zeros((4, 28, 28, 1), np.float32)
    images[:, 4:8, 12:16] = 255.0  # a bright square above the centre
    batch = tf.constant(images)
    seed = tf.constant([7, 0], tf.int64)
    unchanged = rotate_zoom_batch(batch, 0.0, 0.0, seed).numpy()
    np.testing.assert_allclose(unchanged, images, atol=1e-3)
    turned = rotate_zoom_batch(batch, 30.0, 0.0, seed).numpy()
    assert not np.allclose(turned, images)  # the square moved off its place
    np.testing.assert_array_equal(turned, rotate_zoom_batch(batch, 30.0, 0.0, seed).numpy())
    # Rotating about the centre keeps the square's distance from it: only its angle changes.
    rows, cols = np.nonzero(turned[0, ..., 0] > 128)
    distance = np.hypot(rows.mean() - 13.5, cols.mean() - 13.5)
    assert abs(distance - np.hypot(5.5 - 13.5, 0.0)) < 1.5
    zoomed = rotate_zoom_batch(batch, 0.0, 0.3, seed).numpy()
    assert not np.allclose(zoomed, images)
