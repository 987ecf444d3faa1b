"""Scan: find the images under the roots and read their metadata (exiftool)."""

from xmpcull.scan.walk import ScanResult, scan_roots

__all__ = ["ScanResult", "scan_roots"]
