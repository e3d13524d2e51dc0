"""WSGI entry point for gunicorn: `gunicorn lynxportal.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lynxportal.settings")
application = get_wsgi_application()
