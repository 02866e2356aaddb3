"""The seed's program in TensorFlow/Keras, as the DCGAN tutorial writes it.

Model, losses, optimisers and the ``@tf.function`` train step are the tutorial's (one
forward pass under two GradientTapes, one update each); the data pipeline is its
``from_tensor_slices(...).shuffle(60000).batch(256)``. ``--precision bf16`` sets Keras'
``mixed_bfloat16`` policy (the logits are cast back to float32 for the loss). Run by
``benchmarks/throughput.py`` from the environment ``make bench-reference`` creates.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from common import N_IMAGES, report, time_windows, worker_args  # noqa: E402
from tensorflow import keras  # noqa: E402
from tensorflow.keras import layers  # noqa: E402

NOISE_DIM = 100


def make_generator_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(
                1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"
            ),
        ]
    )


def make_discriminator_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1, dtype="float32"),
        ]
    )


def main() -> None:
    args = worker_args(__doc__.splitlines()[0])
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    if args.precision == "bf16":
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    tf.random.set_seed(0)
    images = np.random.default_rng(0).uniform(-1, 1, (N_IMAGES, 28, 28, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(N_IMAGES).batch(args.batch)
    generator, discriminator = make_generator_model(), make_discriminator_model()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(1e-4)
    discriminator_optimizer = keras.optimizers.Adam(1e-4)

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)
        return real_loss + fake_loss

    def generator_loss(fake_output):
        return cross_entropy(tf.ones_like(fake_output), fake_output)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([args.batch, NOISE_DIM])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)
            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)
        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, discriminator.trainable_variables
        )
        generator_optimizer.apply_gradients(
            zip(gradients_of_generator, generator.trainable_variables, strict=True)
        )
        discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, discriminator.trainable_variables, strict=True)
        )
        return gen_loss

    batches = iter(dataset.repeat())
    last = [None]

    def step() -> None:
        last[0] = train_step(next(batches))

    def sync() -> None:
        if last[0] is not None:
            last[0].numpy()

    report("tensorflow", args, time_windows(step, sync, args), version=tf.__version__)


if __name__ == "__main__":
    main()
