"""The `Content-Disposition` header of a file a service hands out (a receipt, an export, an invoice PDF).

HTTP header values are Latin-1 on the wire (Starlette encodes them so), and a file name is whatever its uploader
called it: `Quittung Müller März.pdf`, `領収書.png`. Put into `filename="..."` as it is, a name outside Latin-1
made every download of that file a 500, and a quote or line break in it could break the header. RFC 6266 (with
RFC 8187, formerly 5987) carries any name: `filename*=UTF-8''<percent-encoded>`, which every current browser
prefers, and beside it a plain ASCII `filename="..."` for clients that do not read the other.
"""

import unicodedata
from typing import Literal
from urllib.parse import quote

# RFC 8187's attr-char: what may stand unencoded in `filename*`; everything else is percent-encoded as UTF-8.
_ATTR_CHARS = "!#$&+-.^_`|~"
_MAX_NAME = 255


def ascii_fallback(filename: str) -> str:
    """An ASCII stand-in for `filename` (accents dropped, anything else that is not printable ASCII, quotes and
    backslashes made `_`), for the plain `filename="..."` parameter."""
    decomposed = unicodedata.normalize("NFKD", filename)
    out = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue  # the accent of an é: keep the e
        out.append(char if " " <= char <= "~" and char not in '"\\' else "_")
    return "".join(out).strip() or "download"


def content_disposition(filename: str, disposition: Literal["inline", "attachment"] = "attachment") -> str:
    """`attachment; filename="Quittung Muller _ Marz.pdf"; filename*=UTF-8''Quittung%20M%C3%BCller...`: safe for
    any name (the header is pure ASCII, with nothing that could end a parameter or the header)."""
    name = "".join(char for char in filename if char.isprintable()) or "download"  # no CR, LF or other controls
    name = name[-_MAX_NAME:]
    fallback = ascii_fallback(name)
    if fallback == name:
        return f'{disposition}; filename="{name}"'
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe=_ATTR_CHARS)}"
