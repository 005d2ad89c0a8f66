"""A park's ``language`` is the default for its people who chose none and whose app gives none."""

from sqlmodel import Session

from handlers.i18n import LANGUAGES
from storage.models import Park, Person
from storage.queries import active_roles


def adopt_park_language(session: Session, person: Person, park_ids: set[int] | None = None) -> None:
    """A person who chose no language and whose app gives none reads their park's ``language``.

    Their parks are those they hold a role in, plus ``park_ids`` (a park whose group they are
    in, or whose report they start). The first park (lowest id) decides when they differ.
    The platform's language still wins once it sends one; ``/taal`` wins over both.
    """
    if person.language or person.language_chosen or person.id is None:
        return
    ids = set(park_ids or ()) | {role.park_id for role in active_roles(session, person.id)}
    parks = [park for park in (session.get(Park, park_id) for park_id in sorted(ids)) if park is not None]
    if parks and parks[0].language in LANGUAGES:
        person.language = parks[0].language
        session.add(person)
