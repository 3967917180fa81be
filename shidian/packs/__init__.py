"""Domain packs: one folder per pilot domain, each a declarative definition of its cases.

A pack holds ``pack.yaml``, its case type (``case_type.yaml``), decision tables (``tables/``),
optionally a ``rules.py`` for what an expression cannot say, scenarios with expected outcomes
(``scenarios/*.yaml``) run by its ``tests.py``, and a README naming the plans it follows. The
engine in ``shidian.cases`` reads every pack through ``shidian.cases.definitions``; adding a pack
never changes the engine. Broken packs fail ``manage.py check`` (ids ``packs.E001``…``E006``).
"""
