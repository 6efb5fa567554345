"""Who is signed in on this request. The rooms that sign people in set it
(the centre room sets `g.centre_user`); other rooms read it from here."""

from __future__ import annotations

from flask import g


def centre_user():
    """The signed-in reporting-centre member, or None."""
    return g.get("centre_user")
