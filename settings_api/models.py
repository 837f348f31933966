"""The virtual backgrounds this service uploaded, as Kaleyra described them on upload.

Kaleyra's company settings may name the default background by its alias alone; these rows give
the answer its URL and creation date back.
"""

from django.db import models


class UploadedBackground(models.Model):
    alias = models.CharField(max_length=255, unique=True)
    url = models.TextField()
    creation_date = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.alias
