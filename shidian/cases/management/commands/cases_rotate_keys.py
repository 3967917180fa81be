"""Re-encrypt every case's envelope of personal numbers under the newest field key.

Put the new key first in ``SHIDIAN_FIELD_KEYS`` (keeping the old ones after it), run this, then
drop the old keys. Search hashes do not change (they use ``SHIDIAN_FIELD_HASH_KEY``).
"""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from shidian.cases.models import Case
from shidian.core import crypto

CHUNK = 2000


class Command(BaseCommand):
    help = "Re-encrypt the cases' personal numbers under the newest key of SHIDIAN_FIELD_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        last = 0
        done = 0
        while True:
            with transaction.atomic():
                rows = list(Case.objects.select_for_update().filter(pk__gt=last)
                            .exclude(pii="").order_by("pk").values_list("pk", "pii")[:CHUNK])
                if not rows:
                    break
                for pk, token in rows:
                    Case.objects.filter(pk=pk).update(pii=crypto.rotate_token(token))
                last = rows[-1][0]
                done += len(rows)
        self.stdout.write(f"re-encrypted {done} cases")
