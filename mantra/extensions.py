"""Extension objects, created unbound; create_app() binds them."""

import hashlib
import hmac

from flask import current_app
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


def hashed_client_key() -> str:
    """Rate-limit key: a keyed hash of the client address, so Redis never
    holds an address in clear. The address is read in memory only."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, get_remote_address().encode(), hashlib.sha256).hexdigest()[:32]


limiter = Limiter(key_func=hashed_client_key, in_memory_fallback_enabled=True)


def rate_limit(name: str):
    """Limit POSTs to a view by the configured RATE_LIMITS[name]."""
    return limiter.limit(lambda: current_app.config["RATE_LIMITS"][name], methods=["POST"])
