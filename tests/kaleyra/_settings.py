"""Throwaway settings for running the kaleyra suite alone while the project is mid-edit."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECRET_KEY = "test-only"
DEBUG = True
INSTALLED_APPS = ["django.contrib.contenttypes", "kaleyra.apps.KaleyraConfig"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "tests.kaleyra.join_urls"
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
BANDYER_API_SECRET_KEY = ""
BANDYER_BASE_URL = ""
KALEYRA_BACKEND = "simulator"
KALEYRA_CONNECT_TIMEOUT = 3.05
KALEYRA_READ_TIMEOUT = 10.0
KALEYRA_MAX_RETRIES = 3
KALEYRA_RETRY_BACKOFF_SECONDS = 0.5
KALEYRA_RETRY_MAX_SECONDS = 10.0
KALEYRA_SIMULATOR_DB = str(BASE_DIR / "var" / "kaleyra-simulator-tests.sqlite3")
KALEYRA_SIMULATOR_PUBLIC_URL = "http://127.0.0.1:8000/kaleyra-simulator"
