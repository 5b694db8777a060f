"""Trainer for ScanClean's denoising autoencoders.

Fits the models with TensorFlow/Keras on paired noisy/clean scans, evaluates them on
held-out background groups and exports them to ONNX with tf2onnx. Importing this package
does not import TensorFlow: the modules that need it (``model``, ``train``, ``export``)
import it themselves, so ``synth`` and ``data`` stay cheap.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
