"""Scraped web pages: the main text through trafilatura (tables kept), navigation and ads dropped.

trafilatura's XML output keeps the structure (headings, paragraphs, list items, table rows), which
is turned into one line per block and one TAB-separated line per table row. When trafilatura finds
nothing (tiny or unusual pages) a plain extraction of the cleaned page is used instead.
"""
from __future__ import annotations

import logging
import re

from .errors import ReadError
from .normalize import clean_text
from .plaintext import decode_bytes

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_BLOCK_TAGS = {"head", "p", "item", "quote", "code", "list", "div", "table", "row", "cell"}
# class/id words of page furniture (navigation, banners, footers, share bars ...)
_FURNITURE_RE = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|header|footer|foot|sidebar|side|aside|breadcrumbs?|crumbs?|banner|"
    r"ads?|advert\w*|guanggao|gg|share|bdshare|copyright|copy|related|links?|toolbar|search|login|"
    r"top|bottom|pager|pagination|comment\w*|weixin|wechat|qrcode|erweima|dibu|daohang|"
    r"location|position|weizhi)([\s_-]|\d|$)", re.I)


def _decode_html(data: bytes) -> str:
    match = _CHARSET_RE.search(data[:4096])
    if match:
        name = match.group(1).decode("ascii", "ignore").lower()
        if name in ("gb2312", "gbk", "gb_2312-80", "x-gbk"):
            name = "gb18030"
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data)


def _element_lines(element, out: list[str]) -> None:
    """Lines of trafilatura's XML tree: blocks on their own lines, table rows TAB-joined."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "table":
        for row in element.iter("row"):
            cells = [_inline_text(cell).replace("\n", " ").strip() for cell in row.iter("cell")]
            while cells and not cells[-1]:
                cells.pop()
            if any(cells):
                out.append("\t".join(cells))
        return
    if tag in ("head", "p", "item", "quote", "code"):
        has_blocks = any(isinstance(c.tag, str) and c.tag in ("list", "table", "p")
                         for c in element)
        if not has_blocks:
            out.extend(_inline_text(element).split("\n"))
            return
    if element.text and element.text.strip() and tag not in ("doc", "main", "comments"):
        out.append(element.text.strip())
    for child in element:
        _element_lines(child, out)
        if child.tail and child.tail.strip():
            out.append(child.tail.strip())


def _inline_text(element) -> str:
    parts = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            parts.append("\n")
        else:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _with_trafilatura(html: str) -> str | None:
    try:
        import trafilatura
        from lxml import etree
    except ImportError:  # pragma: no cover - pinned dependencies
        return None
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    try:
        xml = trafilatura.extract(html, include_tables=True, include_comments=False,
                                  include_images=False, include_links=False, output_format="xml",
                                  favor_recall=True, deduplicate=False)
    except Exception:  # trafilatura on a malformed page: fall back to the plain extraction
        return None
    if not xml:
        return None
    try:
        root = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return None
    main = root.find("main")
    lines: list[str] = []
    _element_lines(main if main is not None else root, lines)
    return "\n".join(line.strip() for line in lines)


def _plain_extraction(html: str) -> str:
    """Text of the page after dropping scripts, styles and page furniture."""
    try:
        import lxml.html
    except ImportError:  # pragma: no cover
        return re.sub(r"<[^>]+>", "\n", html)
    try:
        root = lxml.html.fromstring(html)
    except Exception:  # lxml raises ParserError or ValueError for empty or unparsable pages
        return ""
    for bad in root.xpath("//script|//style|//noscript|//nav|//header|//footer|//aside|//form|"
                          "//iframe|//select|//button|//template|//svg"):
        bad.drop_tree()
    for el in root.xpath("//*[@class or @id]"):
        words = f"{el.get('class', '')} {el.get('id', '')}"
        if (_FURNITURE_RE.search(words) and el.getparent() is not None
                and el.tag not in ("html", "body")):
            el.drop_tree()
    lines: list[str] = []
    block = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section", "article",
             "table", "ul", "ol", "dd", "dt", "blockquote", "pre"}

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "tr":
            cells = [" ".join(td.text_content().split()) for td in el if td.tag in ("td", "th")]
            if any(cells):
                lines.append("\t".join(cells))
            return
        if tag in block:
            lines.append("")
        if el.text and tag not in ("table", "tbody", "thead"):
            lines[-1:] = [(lines[-1] if lines else "") + el.text]
        for child in el:
            walk(child)
            if child.tail:
                lines[-1:] = [(lines[-1] if lines else "") + child.tail]
        if tag in block:
            lines.append("")

    body = root.find("body")
    walk(body if body is not None else root)
    return "\n".join(" ".join(line.split()) for line in lines)


def read_html(data: bytes) -> str:
    html = _decode_html(data)
    if not html.strip():
        return ""
    text = _with_trafilatura(html)
    fallback = None
    if text is None or len(text.strip()) < 200:
        fallback = _plain_extraction(html)
        if text is None or len(fallback.strip()) > 2 * len(text.strip()):
            text = fallback
    lines = [line.replace("\u00a0", " ").rstrip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line.strip() or (out and out[-1]):
            out.append(line.strip() if "\t" not in line else line)
    result = clean_text("\n".join(out).strip("\n"))
    if not result.strip() and re.search(r"<[a-zA-Z]", html) is None:
        raise ReadError(None, "不是网页文件(找不到 HTML 内容)")
    return result
