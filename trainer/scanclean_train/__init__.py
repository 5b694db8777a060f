"""Trainer for ScanClean's denoising autoencoders.

Fits the models with TensorFlow/Keras on paired noisy/clean scans, evaluates them on
held-out background groups and exports them to ONNX with tf2onnx. Importing this package
does not import TensorFlow: the modules that need it (``model``, ``train``, ``export``)
import it themselves, so ``synth`` and ``data`` stay cheap.
"""

__all__ = ["ARCH_NAMES", "DEFAULT_ARCH", "__version__"]

__version__ = "0.1.0"

ARCH_NAMES = ("seed", "unet", "mirror-unet")
"""Names of the architectures ``scanclean_train.model.ARCHITECTURES`` builds (kept here so
the command line lists them without importing Keras)."""

DEFAULT_ARCH = "unet"
"""The architecture of the shipped default model."""
