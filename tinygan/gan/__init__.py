"""The GAN kit, built on the framework (tinygan's tensor, ops, nn, optim and backends):

  recipes     the losses, stabilisers and gradient penalties, and one training step; its
              names are this package's own (tinygan.gan.train_step, tinygan.gan.Recipe, ...)
  dcgan       the DCGAN generator and discriminator
  data        CIFAR-10, image folders and archives, cached as uint8
  metrics     sliced Wasserstein distance, Fréchet distance, classifier score: the math
  classifier  our CIFAR-10 classifier; probe: D's features under a linear probe
  evaluation  every metric of a generator against the test images
  visual      sample grids and plots; cli: the scripts' shared command-line settings
  monitor     a training run's TensorBoard events (train_cifar.py --tensorboard)

Imports flow one way: this kit -> the framework -> tinygan.backend -> kernels/.
"""
from .recipes import (G_LOSSES, LOSSES, PRIORS, Recipe, clip_weights, d_mean, d_values,
                      discriminator_loss, frozen, generator_loss, gradient_penalty,
                      r1_penalty_and_scores, sample_latent, squared_gradient_norms,
                      squared_input_gradients, to_host, train_step)

__all__ = ["G_LOSSES", "LOSSES", "PRIORS", "Recipe", "clip_weights", "d_mean", "d_values",
           "discriminator_loss", "frozen", "generator_loss", "gradient_penalty",
           "r1_penalty_and_scores", "sample_latent", "squared_gradient_norms",
           "squared_input_gradients", "to_host", "train_step"]
