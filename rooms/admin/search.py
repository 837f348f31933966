"""The visit list's search box: what a support person types, looked up by index.

A visit id or a Kaleyra room id finds that visit; a participant's external (user) id finds their
visits; anything else is looked for in the participants' names. Each is an `=` on an indexed
column (primary key, `kaleyra_room_id`, `participant_external_id`); only a name, when no id
matched, reads the participants' names (a substring has no btree index to use).
"""

from django.db.models import QuerySet

from rooms.models import Participant, Teleconsultation


def visits_matching(queryset: QuerySet, term: str) -> QuerySet:
    """`queryset` (the list as filtered) narrowed to the visits `term` names, each once."""
    term = term.strip()
    if not term:
        return queryset
    by_id = Teleconsultation.objects.filter(pk=term.lower()) | Teleconsultation.objects.filter(
        kaleyra_room_id=term
    )
    found = list(by_id.values_list("pk", flat=True))
    if found:
        return queryset.filter(pk__in=found)
    # One participant row per visit and person (participant_once_per_visit): no duplicates.
    if Participant.objects.filter(external_id=term).exists():
        return queryset.filter(participants__external_id=term)
    # Each word in some participant's name, as Django's own search ANDs the words.
    for word in term.split():
        named = Participant.objects.filter(full_name__icontains=word)
        queryset = queryset.filter(pk__in=named.values("teleconsultation_id"))
    return queryset
