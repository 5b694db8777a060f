"""Denoising autoencoder architectures, by name.

All are fully convolutional: input (N, H, W, 1) float32 in [0, 1], 1 = paper; output the
same shape and range. H and W must be multiples of the architecture's ``size_multiple``.

- ``seed``: the reference DAE, a plain stack of 3x3 convolutions (32, 16, 8, 8, 16, 32
  filters, ReLU, then one sigmoid filter); 12,785 parameters, receptive field 15 px.
- ``unet``: the default. A U-Net (Ronneberger et al., "U-Net: Convolutional Networks for
  Biomedical Image Segmentation", MICCAI 2015) with batch normalization and a residual
  output: the network predicts a correction that is added to the noisy page's logit
  before the sigmoid, so it starts from "output = input" rather than from a blank page
  (a plain U-Net stalls at the all-white page on NoisyOffice; see models/README.md).
  Optionally a context block at the coarsest level: residual 3x3 convolutions dilated by
  the given rates (Yu and Koltun, "Multi-Scale Context Aggregation by Dilated
  Convolutions", ICLR 2016), which widen the receptive field at 1/64 of the pixels' cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers, ops

EPS = 1e-3
DEFAULT_WIDTHS = (8, 24, 48, 96)  # the default U-Net's filters per resolution


@dataclass(frozen=True)
class ArchInfo:
    """Facts about an architecture that the app needs (stored in the ONNX metadata).

    Attributes
    ----------
    receptive_field : int
        Width in px of the input window that can affect one output pixel (an upper bound).
    size_multiple : int
        H and W of the input must be multiples of this (px).
    """

    name: str
    receptive_field: int
    size_multiple: int


@keras.saving.register_keras_serializable(package="scanclean")
class ResidualSigmoid(layers.Layer):
    """``sigmoid(logit(clip(noisy, eps, 1 - eps)) + correction)``.

    Inputs: ``[noisy (N, H, W, 1), correction (N, H, W, 1)]``, float32. Output in (0, 1).
    A registered layer (not a ``Lambda``) so that ``.keras`` files load back.
    """

    def call(self, inputs):
        noisy, correction = inputs
        x = ops.clip(noisy, EPS, 1.0 - EPS)
        return ops.sigmoid(ops.log(x) - ops.log(1.0 - x) + correction)


def build_seed() -> tuple[keras.Model, ArchInfo]:
    """The reference ``seed`` DAE: Conv2D 32, 16, 8, 8, 16, 32 (3x3, ReLU) + Conv2D 1 sigmoid.

    Returns
    -------
    model : keras.Model with 12,785 parameters
    info : ArchInfo (receptive field 15 px, size multiple 1)
    """
    inputs = keras.Input((None, None, 1), name="input")
    x = inputs
    for filters in (32, 16, 8, 8, 16, 32):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="output")(x)
    return keras.Model(inputs, outputs, name="seed"), ArchInfo("seed", 1 + 7 * 2, 1)


def conv_block(x, filters: int, name: str):
    """Two 3x3 convolutions, each followed by batch normalization and ReLU."""
    for i in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def context_block(x, filters: int, dilations: tuple[int, ...]):
    """Residual dilated 3x3 convolutions: ``x + relu(bn(conv_d(x)))`` for each rate ``d``.

    Shapes: (N, h, w, filters) in and out. The residual form adds the wider context to the
    bottleneck's features instead of replacing them, so the local path stays as it is
    without the block.
    """
    for j, d in enumerate(dilations):
        y = layers.Conv2D(
            filters, 3, padding="same", dilation_rate=d, use_bias=False, name=f"context{j}_conv"
        )(x)
        y = layers.BatchNormalization(name=f"context{j}_bn")(y)
        y = layers.Activation("relu", name=f"context{j}_relu")(y)
        x = layers.Add(name=f"context{j}_add")([x, y])
    return x


def unet_receptive_field(levels: int, context: tuple[int, ...] = ()) -> int:
    """Receptive field (px) of :func:`build_unet` with ``levels`` resolutions.

    Standard recurrence ``rf += (k - 1) * dilation * jump`` along the longest path (down
    to the bottleneck, through the context block and back up); 2x2 max pooling adds
    ``jump`` and doubles it; nearest upsampling halves ``jump`` and can widen the window by
    one step of the coarser grid.
    """
    rf, jump = 1, 1
    for _ in range(levels - 1):
        rf += 2 * 2 * jump  # two 3x3 convs
        rf += jump  # 2x2 pool
        jump *= 2
    rf += 2 * 2 * jump  # bottleneck block
    rf += sum(2 * d * jump for d in context)  # dilated 3x3 convs
    for _ in range(levels - 1):
        rf += jump  # nearest upsampling (conservative)
        jump //= 2
        rf += 2 * 2 * jump  # decoder block
    return rf + 2 * jump  # final 3x3 conv (to the correction)


def build_unet(
    widths: tuple[int, ...] = DEFAULT_WIDTHS, context: tuple[int, ...] = ()
) -> tuple[keras.Model, ArchInfo]:
    """The default DAE: a residual U-Net with batch normalization.

    Parameters
    ----------
    widths : tuple of int
        Filters per resolution, finest first; ``len(widths) - 1`` 2x2 poolings. The
        full-resolution level costs the most time per filter: 8 filters there instead of
        16 run 1.97 instead of 1.63 MP/s through onnxruntime on a 2-core CPU (19,584 vs
        27,072 MAC/px; ``python benchmarks/bench_widths.py``, models/README.md).
    context : tuple of int
        Dilation rates of a context block after the bottleneck (:func:`context_block`);
        empty for none. Each rate ``d`` widens the receptive field by
        ``2 * d * 2 ** (len(widths) - 1)`` px and costs ``9 * widths[-1] ** 2 / 4 **
        (len(widths) - 1)`` MAC/px (1,296 for the default widths).

    Returns
    -------
    model : keras.Model
    info : ArchInfo; size multiple ``2 ** (len(widths) - 1)``.
    """
    inputs = keras.Input((None, None, 1), name="input")
    skips = []
    x = inputs
    for i, f in enumerate(widths[:-1]):
        x = conv_block(x, f, f"enc{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = conv_block(x, widths[-1], "bottleneck")
    x = context_block(x, widths[-1], context)
    for i in reversed(range(len(widths) - 1)):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}")(x)
        x = layers.Concatenate(name=f"cat{i}")([x, skips[i]])
        x = conv_block(x, widths[i], f"dec{i}")
    correction = layers.Conv2D(1, 3, padding="same", name="correction")(x)
    outputs = ResidualSigmoid(name="output")([inputs, correction])
    levels = len(widths)
    name = "unet-" + "-".join(map(str, widths))
    if context:
        name += "-ctx" + "-".join(map(str, context))
    info = ArchInfo(name, unet_receptive_field(levels, context), 2 ** (levels - 1))
    return keras.Model(inputs, outputs, name="unet"), info


ARCHITECTURES = {"seed": build_seed, "unet": build_unet}  # keys: ARCH_NAMES


def build_model(arch: str, widths=None, context=None) -> tuple[keras.Model, ArchInfo]:
    """Build an architecture by name (see :data:`ARCHITECTURES`).

    Parameters
    ----------
    arch : str
        A key of :data:`ARCHITECTURES`.
    widths : sequence of int or None
        ``unet`` only: filters per resolution, finest first (:func:`build_unet`); None for
        the default.
    context : sequence of int or None
        ``unet`` only: dilation rates of the context block (:func:`build_unet`); None or
        empty for none.

    Raises
    ------
    ValueError
        Unknown name, ``widths`` or ``context`` for an architecture other than ``unet``,
        or unusable values (:func:`train.check_widths`, :func:`train.check_context`).
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    if widths is None and not context:
        return ARCHITECTURES[arch]()
    from .train import check_context, check_widths

    if widths is not None:
        check_widths(list(widths), arch)
    if context:
        check_context(list(context), arch)
    return build_unet(tuple(widths or DEFAULT_WIDTHS), tuple(context or ()))


def macs_per_pixel(model: keras.Model) -> int:
    """Multiply-accumulates per input pixel of the convolutions (MAC/px).

    Each Conv2D costs ``kh * kw * in_ch * out_ch`` per output pixel, divided by the area
    factor of its resolution relative to the input (4 per 2x pooling).
    """
    total = 0.0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kh, kw = layer.kernel_size
            in_ch = layer.input.shape[-1]
            scale = 1
            name = layer.name
            if name.startswith(("enc", "dec")):
                scale = 4 ** int(name[3:].split("_")[0])
            elif name.startswith(("bottleneck", "context")):
                n_pools = sum(isinstance(lay, layers.MaxPooling2D) for lay in model.layers)
                scale = 4**n_pools
            total += kh * kw * in_ch * layer.filters / scale
    return int(round(total))
