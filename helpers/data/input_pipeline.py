"""The training input pipeline: tf.data over in-memory images, augmented a batch at a time.

The raw uint8 images are cached in memory once, shuffled every epoch, batched, augmented by
vectorized ops on the whole batch (one kernel per augmentation rather than one per image),
and prefetched so the next batch is ready while the model trains on this one. Augmentation
randomness is stateless, drawn from (seed, batch number): the same seed gives the same
training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.backend import tf


@dataclass(frozen=True)
class Augmentation:
    """Random changes applied to training batches only (never to validation or test images).

    The ranges (augment_shift, augment_erase) are helpers.parameters's to check.
    """

    flip: bool = False  # mirror left-right with probability 1/2 (clothes: yes; digits: no)
    shift: float = 0.0  # move up to this fraction of the height and width, zero-filled
    erase: float = 0.0  # with this probability, black out one random rectangle
    rotation: float = 0.0  # turn by up to this many degrees either way, zero-filled
    zoom: float = 0.0  # scale by a factor within 1 -/+ this, zero-filled

    @property
    def active(self) -> bool:
        """Whether any augmentation is switched on."""
        return (self.flip or self.shift > 0 or self.erase > 0 or self.rotation > 0
                or self.zoom > 0)


NO_AUGMENTATION = Augmentation()


# Ours, not keras.layers.RandomFlip/RandomTranslation/RandomRotation/RandomZoom, whose
# stateful seed makes a parallel tf.data map differ run to run; these draw statelessly from
# (seed, batch number).
def flip_batch(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flips = tf.random.stateless_uniform([tf.shape(images)[0], 1, 1, 1], seed) < 0.5
    return tf.where(flips, tf.reverse(images, axis=[2]), images)


def shift_batch(images: tf.Tensor, max_fraction: float, seed: tf.Tensor) -> tf.Tensor:
    """Move each image by its own random whole-pixel offset, filling with zeros."""
    height, width = images.shape[1], images.shape[2]
    pad_rows, pad_cols = round(height * max_fraction), round(width * max_fraction)
    if pad_rows == 0 and pad_cols == 0:
        return images
    padded = tf.pad(images, [[0, 0], [pad_rows, pad_rows], [pad_cols, pad_cols], [0, 0]])
    batch = tf.shape(images)[0]
    row_offsets = tf.random.stateless_uniform([batch, 1], seed, 0, 2 * pad_rows + 1, tf.int32)
    col_offsets = tf.random.stateless_uniform([batch, 1], seed + 1, 0, 2 * pad_cols + 1,
                                              tf.int32)
    rows = row_offsets + tf.range(height)[tf.newaxis, :]  # batch x height
    cols = col_offsets + tf.range(width)[tf.newaxis, :]  # batch x width
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, cols, axis=2, batch_dims=1)


def erase_batch(images: tf.Tensor, probability: float, seed: tf.Tensor) -> tf.Tensor:
    """Random erasing: black out one rectangle (a tenth to a third of each side) per image."""
    height, width = images.shape[1], images.shape[2]
    batch = tf.shape(images)[0]
    draws = tf.random.stateless_uniform([batch, 5], seed)
    erase_height = tf.cast(height * (0.1 + 0.23 * draws[:, 0]), tf.int32)[:, None]
    erase_width = tf.cast(width * (0.1 + 0.23 * draws[:, 1]), tf.int32)[:, None]
    top = tf.cast(draws[:, 2:3] * tf.cast(height - erase_height, tf.float32), tf.int32)
    left = tf.cast(draws[:, 3:4] * tf.cast(width - erase_width, tf.float32), tf.int32)
    rows, cols = tf.range(height)[tf.newaxis, :], tf.range(width)[tf.newaxis, :]
    in_rows = (rows >= top) & (rows < top + erase_height)  # batch x height
    in_cols = (cols >= left) & (cols < left + erase_width)  # batch x width
    inside = in_rows[:, :, tf.newaxis] & in_cols[:, tf.newaxis, :]
    inside &= (draws[:, 4] < probability)[:, tf.newaxis, tf.newaxis]
    return tf.where(inside[..., tf.newaxis], tf.zeros_like(images), images)


def rotate_zoom_batch(images: tf.Tensor, max_degrees: float, max_zoom: float,
                      seed: tf.Tensor) -> tf.Tensor:
    """Turn each image by a random angle and scale it by a random factor, about its centre.

    One bilinear resampling per image does both (the transform Keras's RandomRotation and
    RandomZoom apply), filling uncovered pixels with zeros.
    """
    height, width = images.shape[1], images.shape[2]
    batch = tf.shape(images)[0]
    draws = tf.random.stateless_uniform([batch, 2], seed, -1.0, 1.0)
    angle = draws[:, 0] * (max_degrees * np.pi / 180)
    scale = 1.0 + draws[:, 1] * max_zoom  # > 1 zooms in: the output samples a smaller area
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    # Output pixel (x, y) reads input pixel (a0 x + a1 y + a2, b0 x + b1 y + b2).
    transforms = tf.stack([cos, -sin, centre_x - cos * centre_x + sin * centre_y,
                           sin, cos, centre_y - sin * centre_x - cos * centre_y,
                           tf.zeros_like(cos), tf.zeros_like(cos)], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[height, width],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="CONSTANT")


def augment_batch(images: tf.Tensor, augmentation: Augmentation, seed: tf.Tensor) -> tf.Tensor:
    """All the switched-on augmentations, each with its own stream of random numbers."""
    if augmentation.flip:
        images = flip_batch(images, seed)
    if augmentation.shift > 0:
        images = shift_batch(images, augmentation.shift, seed + [0, 1])
    if augmentation.rotation > 0 or augmentation.zoom > 0:
        images = rotate_zoom_batch(images, augmentation.rotation, augmentation.zoom,
                                   seed + [0, 5])
    if augmentation.erase > 0:
        images = erase_batch(images, augmentation.erase, seed + [0, 3])
    return images


def training_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int,
                     augmentation: Augmentation = NO_AUGMENTATION) -> tf.data.Dataset:
    """Cached, reshuffled each epoch, batched, augmented per batch, prefetched."""
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmentation.active:
        def augment(batch_number: tf.Tensor, batch: tuple[tf.Tensor, tf.Tensor]):
            batch_images, batch_labels = batch
            batch_seed = tf.stack([tf.constant(seed, tf.int64), batch_number])
            pixels = tf.cast(batch_images, tf.float32)
            return augment_batch(pixels, augmentation, batch_seed), batch_labels

        dataset = dataset.enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE,
                                          deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
