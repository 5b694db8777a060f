"""Qt user interface of ScanClean."""
