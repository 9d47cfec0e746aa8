"""A host app's own Tortoise models, next to the extension's (label ``auth``)."""

from tortoise import fields
from tortoise.models import Model


class Profile(Model):
    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("auth.User", related_name="profile", on_delete=fields.CASCADE)
    favourite_colour = fields.CharField(max_length=20, default="blue")

    class Meta:
        table = "host_profiles"
