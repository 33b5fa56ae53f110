"""A backend-services client's registered public keys (a JSON Web Key Set), checked when it is
registered and looked up when it signs (docs/fhir.md#smart-backend-services). Pure code.

SMART Backend Services asks servers to support RS384 and ES384: an RSA key (2048 bits or more)
or an EC key on P-384, each with a `kid`. Only public keys are accepted; a set holding a
private part is refused, since whoever pasted it has already exposed the client's secret.
"""

import jwt
from django.core.exceptions import ValidationError

ALGORITHMS = ("RS384", "ES384")
KEY_TYPES = {"RSA": "RS384", "EC": "ES384"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
MIN_RSA_BITS = 2048


def validate_public_jwks(value) -> None:
    """Django validator for ApiClient.jwks: {"keys": [...]} of RS384/ES384 public keys."""
    if value in (None, ""):
        return
    keys = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError('A key set is a JSON object with a non-empty "keys" list.')
    errors = []
    for n, key in enumerate(keys, start=1):
        errors += [f"Key {n}: {problem}" for problem in _problems(key)]
    kids = [key.get("kid") for key in keys if isinstance(key, dict)]
    if len(set(kids)) != len(kids):
        errors.append("Each key needs its own kid.")
    if errors:
        raise ValidationError(errors)


def _problems(key) -> list[str]:
    if not isinstance(key, dict):
        return ["is not a JSON object."]
    if PRIVATE_MEMBERS & set(key):
        return ["holds a private key part: register the public key only, and replace this key pair."]
    algorithm = KEY_TYPES.get(key.get("kty"))
    if algorithm is None:
        return ['kty must be "RSA" (RS384) or "EC" (ES384).']
    problems = []
    if not isinstance(key.get("kid"), str) or not key["kid"]:
        problems.append("needs a kid, which the client puts in each assertion's header.")
    if key.get("alg", algorithm) != algorithm:
        problems.append(f"alg must be {algorithm} for a {key['kty']} key.")
    if key["kty"] == "EC" and key.get("crv") != "P-384":
        problems.append("an ES384 key is on the P-384 curve.")
    try:
        public = jwt.PyJWK(key, algorithm).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
        return problems + [f"is not a valid {algorithm} key ({error})."]
    if key["kty"] == "RSA" and public.key_size < MIN_RSA_BITS:
        problems.append(f"an RSA key has at least {MIN_RSA_BITS} bits.")
    return problems


def signing_key(jwks: dict | None, kid: str, algorithm: str):
    """The registered public key an assertion names, for its algorithm; None when there is none."""
    if algorithm not in ALGORITHMS or not jwks:
        return None
    for key in jwks.get("keys", []):
        if key.get("kid") == kid and KEY_TYPES.get(key.get("kty")) == algorithm:
            return jwt.PyJWK(key, algorithm).key
    return None
