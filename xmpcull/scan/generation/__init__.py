"""Generation metadata: what AI image generators record about a picture (docs/ai-generation.md).

``read_generation(path, format, exiftool_tags)`` returns a ``models.Generation``
(or None for an ordinary photo). PNG text is read by walking the chunks, never
by decoding pixels; C2PA manifests go through c2pa-python.
"""

from xmpcull.scan.generation.reader import GENERATION_FORMATS, parse_texts, read_generation

__all__ = ["GENERATION_FORMATS", "parse_texts", "read_generation"]
