"""xmpcull: cull large photo sets by writing what it learns into XMP sidecars.

Pipeline (one subpackage per stage): scan -> analyse -> group (dupes, bursts)
-> crop -> decide -> sidecar -> report -> move.
"""

__version__ = "0.1.0"
