"""Shipped ONNX models of ScanClean (installed as the package ``scanclean.models``); model cards in README.md."""
