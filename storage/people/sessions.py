"""Django's database sessions, reached only through their key (SESSION_ENGINE).

The RLS role, which every request runs as, holds nothing on `django_session`: a statement a
request runs, a SQL injection's included, cannot list the sessions of others. Each operation
here is one call of a function that reaches the one session whose key it is given (migration
0025), so the table, its rows and the signed session data are Django's own, and
`clearsessions` (an owner command) works as before.
"""

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone


class SessionStore(SessionBase):
    def load(self) -> dict:
        data = _call("portal_session_data(%s, %s)", self.session_key, timezone.now())
        if data is None:
            self._session_key = None
            return {}
        return self.decode(data)

    def exists(self, session_key: str) -> bool:
        return _call("portal_session_exists(%s)", session_key)

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a key taken between exists() and the insert: another one
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        key = self._get_or_create_session_key()
        function = "portal_session_create" if must_create else "portal_session_update"
        if not _call(f"{function}(%s, %s, %s)", key, data, self.get_expiry_date()):
            # Taken by another session, or ended (signed out) by another request meanwhile.
            raise CreateError if must_create else UpdateError

    def delete(self, session_key: str | None = None) -> None:
        key = self.session_key if session_key is None else session_key
        if key is not None:
            _call("portal_session_delete(%s)", key)

    @classmethod
    def clear_expired(cls) -> None:
        """For `clearsessions`, which runs as the owner: the RLS role cannot see expiry."""
        Session.objects.filter(expire_date__lt=timezone.now()).delete()


def _call(function: str, *params):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}", params)
        return cursor.fetchone()[0]
