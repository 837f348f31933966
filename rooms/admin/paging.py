"""Pages of a long admin list whose cost does not grow with the table: the count stops at
COUNT_CAP rows (an index range, not the whole table), and the list says "more than" past it."""

from functools import cached_property
from typing import cast

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        """The rows, or COUNT_CAP + 1 when there are more: SELECT COUNT(*) over a LIMIT."""
        visits = cast(QuerySet, self.object_list)  # the admin pages a queryset
        return visits[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
