"""Fuzz targets: the parser and every importer fed random and mutated input, and the API fed
schema-generated requests by users of each role.

The suite runs each target briefly (``SHIDIAN_FUZZ_EXAMPLES``, default 25 per target);
``bench/fuzz.py`` runs them for longer and prints what it ran.
"""
