"""Full-width characters folded to their ASCII forms before an identifier is checked.

Chinese input methods type full-width digits and letters (１１０１０５…, ＬＦＶ…, 粤Ｂ·Ｄ１２３４５); the number is the
same. NFKC folds them (and full-width brackets, dashes and spaces) and leaves Han characters and ASCII alone;
ASCII input skips the work.
"""

from __future__ import annotations

import unicodedata


def fold_width(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFKC", value)
