"""Plain text: UTF-8 (BOM or not), UTF-16 with a BOM, or GB18030/GBK (which cover GB2312)."""
from __future__ import annotations

import codecs
import unicodedata

from .errors import ReadError
from .normalize import clean_text

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    # mostly-ASCII UTF-16 has zeros in every other byte; Chinese UTF-16 has few zeros, so only the
    # ASCII-heavy case is recognised here
    if odd > 0.3 and even < 0.05:
        encoding = "utf-16-le"
    elif even > 0.3 and odd < 0.05:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:200_000]
    bad = 0
    for ch in sample:
        if ch in "\t\n\r\f\v":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn"):
            bad += 1
    return bad > max(3, len(sample) // 200)


def decode_bytes(data: bytes) -> str:
    """Decode text bytes, detecting the encoding; raises ReadError for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                name = encoding.upper()
                raise ReadError(None, f"文件以 {name} 标记开头,但内容不是有效的 {name} 文字") from exc
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        raise ReadError(None, "文件含有二进制数据,不是文本文件")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReadError(None, "无法识别文件的文字编码(既不是 UTF-8,也不是 GBK/GB18030)")


def decode_text(data: bytes) -> str:
    text = decode_bytes(data)
    if _looks_binary(text):
        raise ReadError(None, "文件含有大量控制字符,不是文本文件")
    return clean_text(text)
