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
- ``mirror-unet``: the same U-Net made equivariant to the page's four mirror images (as is,
  left-right, up-down, both) by construction: a group-equivariant CNN (Cohen and Welling,
  "Group Equivariant Convolutional Networks", ICML 2016) for that group. Channels come in
  fields of four, one per mirror image; every 3x3 kernel is tied over the four
  (:class:`MirrorConv2D`) and batch normalization is per field (:class:`FieldBatchNorm`),
  so mirroring the input mirrors the output exactly (even H and W). After export the
  convolutions have the plain U-Net's shapes and cost; the parameters are a quarter.
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


MIRRORS = 4  # the page's mirror images: as is, left-right, up-down, both (bits 0 and 1)


def mirror_kernel(kernel, g: int):
    """Kernel ``(kh, kw, in, out)`` mirrored by group element ``g`` (bit 0: left-right, bit 1: up-down)."""
    if g & 1:
        kernel = ops.flip(kernel, 1)
    if g & 2:
        kernel = ops.flip(kernel, 0)
    return kernel


@keras.saving.register_keras_serializable(package="scanclean")
class MirrorConv2D(layers.Layer):
    """A 3x3 convolution tied over the four mirror images (a group convolution).

    Channels are laid out ``field * 4 + g`` with ``g`` the mirror image (:data:`MIRRORS`).
    The group is its own inverse and composes by XOR, so for Cohen and Welling's group
    correlation ``out[g] = sum_h (g W[g^-1 h]) * in[h]`` the full kernel is
    ``K[:, :, fi*4 + h, fo*4 + g] = mirror(W[:, :, fi*4 + (g ^ h), fo], g)``.

    Parameters
    ----------
    fields : int
        Output fields (``mode`` "lift", "group": ``4 * fields`` channels) or output
        channels ("project").
    mode : {"lift", "group", "project"}
        "lift": an image (N, H, W, C) in, fields out (``K[.., c, fo*4+g] = mirror(W[.., c,
        fo], g)``); "group": fields in and out; "project": fields in, plain channels out
        (``K[.., fi*4+h, o] = mirror(W[.., fi, o], h)``), which mirror with the page.
    use_bias : bool
        A bias per output field ("lift", "group") or channel ("project").

    Input (N, H, W, C) float32, output (N, H, W, 4 * fields) or (N, H, W, fields); "same"
    zero padding. Raises ValueError when "group" or "project" gets a channel count that is
    not a multiple of 4, or an unknown mode.
    """

    def __init__(self, fields: int, mode: str = "group", use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("lift", "group", "project"):
            raise ValueError(f"mode must be lift, group or project, not {mode!r}")
        self.fields, self.mode, self.use_bias = int(fields), mode, bool(use_bias)
        self.kernel_size = (3, 3)

    @property
    def filters(self) -> int:
        """Output channels after expansion (for the MAC count)."""
        return self.fields if self.mode == "project" else MIRRORS * self.fields

    def build(self, input_shape):
        cin = int(input_shape[-1])
        if self.mode != "lift" and cin % MIRRORS:
            raise ValueError(f"{self.name}: {cin} input channels are not fields of {MIRRORS}")
        base_in = cin // MIRRORS if self.mode == "project" else cin
        self.kernel = self.add_weight(
            shape=(3, 3, base_in, self.fields), initializer="glorot_uniform", name="kernel"
        )
        self.bias = (
            self.add_weight(shape=(self.fields,), initializer="zeros", name="bias")
            if self.use_bias
            else None
        )

    def full_kernel(self):
        """The expanded kernel, (3, 3, in channels, out channels)."""
        w = self.kernel
        kh, kw, cin, cout = w.shape
        if self.mode == "project":  # (3, 3, Fi, 4, Fo) -> (3, 3, 4 Fi, Fo)
            k = ops.stack([mirror_kernel(w, h) for h in range(MIRRORS)], axis=3)
            return ops.reshape(k, (kh, kw, cin * MIRRORS, cout))
        parts = []
        for g in range(MIRRORS):
            wg = w
            if self.mode == "group":
                perm = [(c // MIRRORS) * MIRRORS + ((c % MIRRORS) ^ g) for c in range(cin)]
                wg = ops.take(w, perm, axis=2)
            parts.append(mirror_kernel(wg, g))
        k = ops.stack(parts, axis=-1)  # (3, 3, Cin, Fo, 4)
        return ops.reshape(k, (kh, kw, cin, cout * MIRRORS))

    def call(self, x):
        y = ops.conv(x, self.full_kernel(), strides=1, padding="same")
        if self.bias is not None:
            b = self.bias if self.mode == "project" else ops.repeat(self.bias, MIRRORS)
            y = y + b
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "fields": self.fields,
            "mode": self.mode,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="scanclean")
class FieldBatchNorm(layers.Layer):
    """Batch normalization (Ioffe and Szegedy, ICML 2015) with one mean, variance, scale
    and offset per field of four mirror-image channels, so it commutes with mirroring.

    Input and output (N, H, W, 4 * fields) float32. In training the statistics are taken
    over N, H, W and the field's four channels, and the stored statistics follow them
    with ``momentum``; in inference (or when the layer is frozen) the stored ones are used,
    as Keras's ``BatchNormalization`` does.
    """

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        if channels % MIRRORS:
            raise ValueError(f"{self.name}: {channels} channels are not fields of {MIRRORS}")
        f = channels // MIRRORS
        self.gamma = self.add_weight(shape=(f,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(f,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(
            shape=(f,), initializer="zeros", name="moving_mean", trainable=False
        )
        self.moving_variance = self.add_weight(
            shape=(f,), initializer="ones", name="moving_variance", trainable=False
        )

    def call(self, x, training=None):
        if training and self.trainable:
            s = ops.shape(x)
            fields = ops.reshape(x, (s[0], s[1], s[2], -1, MIRRORS))
            mean = ops.mean(fields, axis=(0, 1, 2, 4))
            variance = ops.var(fields, axis=(0, 1, 2, 4))
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = self.gamma * ops.rsqrt(variance + self.epsilon)
        shift = self.beta - mean * scale
        return x * ops.repeat(scale, MIRRORS) + ops.repeat(shift, MIRRORS)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}


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


def mirror_conv_block(x, channels: int, name: str, lift: bool = False):
    """:func:`conv_block` for :func:`build_mirror_unet`: two tied 3x3 convolutions
    (:class:`MirrorConv2D`), each with :class:`FieldBatchNorm` and ReLU; ``channels`` a
    multiple of 4. ``lift``: the first convolution takes the image itself.
    """
    for i in range(2):
        mode = "lift" if lift and i == 0 else "group"
        x = MirrorConv2D(channels // MIRRORS, mode, name=f"{name}_conv{i}")(x)
        x = FieldBatchNorm(name=f"{name}_bn{i}")(x)
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


def unet_features(inputs, widths, block, bottleneck_extra=None):
    """The U-Net's encoder, bottleneck and decoder with skip connections, up to the last features.

    Shapes: (N, H, W, C) in, (N, H, W, widths[0]) out; ``len(widths) - 1`` 2x2 max
    poolings down and nearest upsamplings back, each decoder level fed the encoder's
    features of its resolution. ``block(x, filters, name, first)`` builds each level's
    convolutions (``first``: the one that takes the input); ``bottleneck_extra(x)``, if
    given, follows the bottleneck (the context block).
    """
    skips = []
    x = inputs
    for i, f in enumerate(widths[:-1]):
        x = block(x, f, f"enc{i}", i == 0)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = block(x, widths[-1], "bottleneck", False)
    if bottleneck_extra is not None:
        x = bottleneck_extra(x)
    for i in reversed(range(len(widths) - 1)):
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"up{i}")(x)
        x = layers.Concatenate(name=f"cat{i}")([x, skips[i]])
        x = block(x, widths[i], f"dec{i}", False)
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
    x = unet_features(
        inputs,
        widths,
        lambda x, f, name, first: conv_block(x, f, name),
        lambda x: context_block(x, widths[-1], context),
    )
    correction = layers.Conv2D(1, 3, padding="same", name="correction")(x)
    outputs = ResidualSigmoid(name="output")([inputs, correction])
    levels = len(widths)
    name = "unet-" + "-".join(map(str, widths))
    if context:
        name += "-ctx" + "-".join(map(str, context))
    info = ArchInfo(name, unet_receptive_field(levels, context), 2 ** (levels - 1))
    return keras.Model(inputs, outputs, name="unet"), info


def build_mirror_unet(widths: tuple[int, ...] = DEFAULT_WIDTHS) -> tuple[keras.Model, ArchInfo]:
    """The residual U-Net of :func:`build_unet`, equivariant to the four mirror images.

    Same layer names, channel counts, receptive field and residual output as
    :func:`build_unet` (no context block), with :func:`mirror_conv_block` for every block
    and a projecting :class:`MirrorConv2D` to the correction, so for inputs of even H and W
    ``model(mirror(x)) == mirror(model(x))`` to float rounding. Method: Cohen and Welling,
    "Group Equivariant Convolutional Networks", ICML 2016, for the group of the mirror
    images (p2mm's point group).

    Parameters
    ----------
    widths : tuple of int
        Channels per resolution, finest first, each a multiple of 4 (``widths[i] // 4``
        fields). The exported convolutions have these shapes, so the MAC/px equal
        :func:`build_unet`'s for the same widths.

    Returns
    -------
    model : keras.Model
    info : ArchInfo; size multiple ``2 ** (len(widths) - 1)``.
    """
    inputs = keras.Input((None, None, 1), name="input")
    x = unet_features(inputs, widths, mirror_conv_block)
    correction = MirrorConv2D(1, "project", use_bias=True, name="correction")(x)
    outputs = ResidualSigmoid(name="output")([inputs, correction])
    levels = len(widths)
    name = "mirror-unet-" + "-".join(map(str, widths))
    info = ArchInfo(name, unet_receptive_field(levels), 2 ** (levels - 1))
    return keras.Model(inputs, outputs, name="mirror_unet"), info


def expand_mirror_unet(model: keras.Model) -> keras.Model:
    """The plain :func:`build_unet` that computes what a :func:`build_mirror_unet` model does.

    Every :class:`MirrorConv2D` becomes a ``Conv2D`` with its expanded kernel and every
    :class:`FieldBatchNorm` a ``BatchNormalization`` with its per-field values repeated
    over the field's four channels, so the two agree to float rounding. The exporter
    converts this one: its graph is the default U-Net's, so it runs at the same speed
    (and TensorFlow's graph optimizer aborts on the graph that builds the tied kernels).

    Parameters
    ----------
    model : keras.Model
        Built by :func:`build_mirror_unet`.

    Returns
    -------
    keras.Model, the ``unet`` architecture with the same widths.

    Raises
    ------
    ValueError
        ``model`` has no :class:`MirrorConv2D` layers.
    """
    by_name = {layer.name: layer for layer in model.layers}
    levels = sum(isinstance(layer, layers.MaxPooling2D) for layer in model.layers) + 1
    if "enc0_conv0" not in by_name or not isinstance(by_name["enc0_conv0"], MirrorConv2D):
        raise ValueError(f"{model.name!r} is not a mirror-unet model")
    widths = tuple(by_name[f"enc{i}_conv0"].filters for i in range(levels - 1)) + (
        by_name["bottleneck_conv0"].filters,
    )
    plain, _ = build_unet(widths)
    for layer in plain.layers:
        source = by_name.get(layer.name)
        if isinstance(source, MirrorConv2D):
            weights = [ops.convert_to_numpy(source.full_kernel())]
            if source.bias is not None:
                weights.append(ops.convert_to_numpy(source.bias))
            layer.set_weights(weights)
        elif isinstance(source, FieldBatchNorm):
            layer.set_weights(
                [
                    ops.convert_to_numpy(ops.repeat(w, MIRRORS))
                    for w in (source.gamma, source.beta, source.moving_mean, source.moving_variance)
                ]
            )
    return plain


ARCHITECTURES = {
    "seed": build_seed,
    "unet": build_unet,
    "mirror-unet": build_mirror_unet,
}  # keys: ARCH_NAMES


def build_model(arch: str, widths=None, context=None) -> tuple[keras.Model, ArchInfo]:
    """Build an architecture by name (see :data:`ARCHITECTURES`).

    Parameters
    ----------
    arch : str
        A key of :data:`ARCHITECTURES`.
    widths : sequence of int or None
        ``unet`` and ``mirror-unet``: filters per resolution, finest first
        (:func:`build_unet`, :func:`build_mirror_unet`); None for the default.
    context : sequence of int or None
        ``unet`` only: dilation rates of the context block (:func:`build_unet`); None or
        empty for none.

    Raises
    ------
    ValueError
        Unknown name, ``widths`` for an architecture other than ``unet`` and
        ``mirror-unet``, ``context`` for one other than ``unet``, or unusable values
        (:func:`train.check_widths`, :func:`train.check_context`).
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
    if arch == "mirror-unet":
        return build_mirror_unet(tuple(widths or DEFAULT_WIDTHS))
    return build_unet(tuple(widths or DEFAULT_WIDTHS), tuple(context or ()))


def macs_per_pixel(model: keras.Model) -> int:
    """Multiply-accumulates per input pixel of the convolutions (MAC/px).

    Each Conv2D costs ``kh * kw * in_ch * out_ch`` per output pixel, divided by the area
    factor of its resolution relative to the input (4 per 2x pooling); a
    :class:`MirrorConv2D` counts with its expanded kernel, as exported.
    """
    total = 0.0
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, MirrorConv2D)):
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
