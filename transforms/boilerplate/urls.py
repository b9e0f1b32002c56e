"""One URL normalisation for the whole pipeline (canonical URLs here, URL dedup elsewhere)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "rb_clickid",
        "s_cid", "cmpid", "ncid", "ocid", "smid", "sr_share", "ref_src", "ref_url", "spm", "share", "utm",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_", "ito", "__")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in TRACKING_PARAMS or lower.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Lowercase scheme and host, drop default ports, fragments and tracking parameters, sort the query.

    Never raises: a string that does not parse as a URL comes back stripped of surrounding whitespace.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError:
        return url
    if not scheme or not host:
        return url
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == str(port) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def registered_domain(url: str | None) -> str | None:
    """The domain a site registered (``www.bbc.co.uk`` -> ``bbc.co.uk``, ``x.blogspot.com`` stays whole),
    from the Public Suffix List bundled with ``tld`` (offline); the bare host for IPs and local names."""
    if not url:
        return None
    from tld import get_fld

    try:
        host = (urlsplit(url if "//" in url else f"//{url}").hostname or "").rstrip(".")
    except ValueError:
        return None
    if not host:
        return None
    return get_fld(host, fix_protocol=True, fail_silently=True) or host
