"""Extension objects, created unbound; create_app() binds them."""

import hashlib
import hmac
import ipaddress
import secrets
import time

from flask import current_app, g, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
mail = Mail()
babel = Babel()


BUCKET_BITS = 22  # 2**32 IPv4 addresses share 2**22 buckets: about a thousand to each


def hashed_client_key() -> str:
    """Rate-limit key: a keyed hash of the client address cut to 22 bits, so
    even with the web config a copy of Redis narrows an address to about a
    thousand candidates (and an IPv6 /64, one network, to as many networks).
    People behind one bucket share its limits; the limits allow for that."""
    address = get_remote_address()
    if ":" in address:  # IPv6: one network's /64 is one client
        address = ipaddress.ip_network(f"{address}/64", strict=False).network_address.exploded
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, address.encode(), hashlib.sha256).digest()
    return f"b{int.from_bytes(digest[:4], 'big') >> (32 - BUCKET_BITS)}"


limiter = Limiter(key_func=hashed_client_key, in_memory_fallback_enabled=True)


def browser_key() -> str:
    """Rate-limit key for one browser: a random id kept in its signed session
    cookie. People sharing one address (a library, a university, a mobile
    network) each have their own budget; a client that drops its cookie meets
    the address limit instead."""
    token = session.get("rl")
    if not isinstance(token, str) or len(token) > 32:
        token = session["rl"] = secrets.token_urlsafe(12)
    return "s" + token


def rate_limit(name: str):
    """Limit POSTs to a view by the configured RATE_LIMITS[name] for each
    browser and ADDRESS_RATE_LIMITS[name] for each address. A post a view marks
    as a bot's (`g.spam`, the honeypot) spends nothing of either budget."""
    not_spam = lambda _response: not g.get("spam")  # noqa: E731
    per_browser = limiter.limit(
        lambda: current_app.config["RATE_LIMITS"][name],
        key_func=browser_key,
        methods=["POST"],
        deduct_when=not_spam,
        scope=f"{name}/browser",
    )
    per_address = limiter.limit(
        lambda: current_app.config["ADDRESS_RATE_LIMITS"][name],
        methods=["POST"],
        deduct_when=not_spam,
        scope=f"{name}/address",
    )
    return lambda view: per_address(per_browser(view))


def seconds_to_wait() -> int:
    """How long until the limit this request met lets it through again."""
    current = limiter.current_limit
    return max(int(current.reset_at - time.time()), 1) if current else 3600
