"""ScanClean: clean scanned documents with a convolutional denoising autoencoder."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scanclean")
except PackageNotFoundError:  # source checkout that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
