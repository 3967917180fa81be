"""Static files in production: hashed names, pre-compressed, source-map comments left alone.

Django's manifest storage rewrites ``sourceMappingURL`` comments and fails ``collectstatic``
when a vendored library (Bootstrap, ECharts) ships its minified file without the map. Maps are
for developers' tools only, so those comments are left as they are.
"""
from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):  # type: ignore[no-untyped-def]
    kept = []
    for extension, rules in patterns:
        rules = tuple(r for r in rules
                      if "sourceMappingURL" not in (r if isinstance(r, str) else r[0]))
        kept.append((extension, rules))
    return tuple(kept)


class StaticStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
