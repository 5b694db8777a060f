"""Training losses that need Keras (imported only by training, so the CLI starts without it)."""

from __future__ import annotations

import keras
from keras import ops

from .train import BASE_LOSSES  # the losses DistilledLoss can blend toward (keras-free there)


def ink_weight(clean):
    """Per-pixel weight of ``ink-mse``: 4 on ink (clean < 0.5), 1 elsewhere; shape of ``clean``."""
    return 1.0 + 3.0 * ops.cast(clean < 0.5, "float32")


#: Window (px) of ``deep-mse``: ink counts as deep where a window this size is all ink,
#: i.e. at least ``DEEP_WINDOW // 2`` px from the nearest paper pixel (Chebyshev distance).
DEEP_WINDOW = 9


def deep_ink_weight(clean):
    """Per-pixel weight of ``deep-mse``: 4 on deep ink, 1 elsewhere; shape of ``clean``.

    Parameters
    ----------
    clean : (B, P, P, 1) float32 in [0, 1]
        Target patches, 1 = paper.

    Returns
    -------
    (B, P, P, 1) float32
        4 where every pixel of the :data:`DEEP_WINDOW` x :data:`DEEP_WINDOW` window
        around it is ink (clean < 0.5; the window is cut at the patch border), else 1.
        Thin strokes and stroke edges keep weight 1, so the weight only asks the inside
        of thick strokes to stay dark.
    """
    brightest = ops.max_pool(clean, pool_size=DEEP_WINDOW, strides=1, padding="same")
    return 1.0 + 3.0 * ops.cast(brightest < 0.5, "float32")


@keras.saving.register_keras_serializable(package="scanclean_train")
class DistilledLoss(keras.losses.Loss):
    """A base loss toward a blend of the clean page and a teacher's output.

    Self-distillation: the target of every pixel is ``(1 - w) * clean + w * teacher``,
    where ``teacher`` is another model's output on the same (augmented) noisy patch, here
    the mean of a model over four mirror images (test-time self-ensemble; Timofte et al.,
    "Seven ways to improve example-based single image super resolution", CVPR 2016). A
    student fitted toward the ensemble can take part of its gain into one pass (knowledge
    distillation, Hinton et al., arXiv:1503.02531, 2015). For ``ink-mse`` the ink pixels
    are those of the clean page (clean < 0.5), weighted 4x.

    Parameters
    ----------
    base : {"mse", "mae", "ink-mse"}
    teacher_weight : float in (0, 1]
        Share ``w`` of the teacher in the target.

    Notes
    -----
    ``y_true`` is (B, P, P, 2) float32: channel 0 the clean patch, channel 1 the teacher's
    output; ``y_pred`` is (B, P, P, 1) float32 in [0, 1].

    Raises
    ------
    ValueError
        Unknown base loss or a weight outside (0, 1].
    """

    def __init__(self, base: str = "ink-mse", teacher_weight: float = 0.5, **kwargs):
        kwargs.setdefault("name", "distilled_loss")
        super().__init__(**kwargs)
        if base not in BASE_LOSSES:
            raise ValueError(f"base loss must be one of {BASE_LOSSES}, not {base!r}")
        if not 0.0 < teacher_weight <= 1.0:
            raise ValueError(f"teacher_weight must be in (0, 1], not {teacher_weight}")
        self.base = base
        self.teacher_weight = float(teacher_weight)

    def call(self, y_true, y_pred):
        clean, teacher = y_true[..., :1], y_true[..., 1:2]
        w = self.teacher_weight
        target = (1.0 - w) * clean + w * teacher  # (B, P, P, 1)
        diff = target - y_pred
        error = ops.abs(diff) if self.base == "mae" else ops.square(diff)
        if self.base == "ink-mse":
            error = error * ink_weight(clean)
        return ops.mean(error, axis=(1, 2, 3))  # (B,)

    def get_config(self) -> dict:
        """Keras serialization: the base loss and the teacher's weight."""
        return {**super().get_config(), "base": self.base, "teacher_weight": self.teacher_weight}
