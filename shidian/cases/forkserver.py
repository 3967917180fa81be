"""Preloaded by the forkserver that starts the household import's check workers
(``imports._worker_pool``): Django is set up once, in the server, so each worker forked from
it starts ready instead of spending a second and more on ``django.setup()``. Imported there
only; the workers get the checker, language and keys from the process that asked for them."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402 - after the settings module is named

django.setup()

from shidian.cases import imports  # noqa: E402,F401 - the check's modules, imported once
from shidian.cases.names import name_pinyin  # noqa: E402

name_pinyin("王")  # the pinyin tables, read once and shared by the workers
