"""Pages of a long admin list whose cost does not grow with the table: the count stops at
COUNT_CAP rows (an index range, not the whole table), and the list says "more than" past it."""

from functools import cached_property

from django.core.paginator import Paginator

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        """The rows, or COUNT_CAP + 1 when there are more: SELECT COUNT(*) over a LIMIT."""
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
