#!/usr/bin/env python3
"""Checks the relative links and images of the repository's Markdown pages.

    python3 scripts/check_links.py [FILE.md ...]

Default: README.md, docs/*.md and bench/*.md. Every relative link must name a file or folder
inside the repository, every `#anchor` (on its own or after a `.md` path) a heading of the
target page, as GitHub makes anchors from headings: the heading's text without its Markdown,
lower-cased, with every character other than letters, digits, `_`, `-` and spaces removed and
spaces turned into `-`; a repeated heading gets `-1`, `-2`, … (explicit `<a id="…">` anchors
count too). Every image must exist. Links to other sites are not fetched. Code blocks and code
spans are skipped. Prints `FILE:LINE: LINK: what is wrong` for each bad link and exits 1 if
there is one. Standard library only.
"""
import glob
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the target may be wrapped in <>.
INLINE = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_USE = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])+)\]\[([^\]]*)\]")
REFERENCE_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
HTML_IMG = re.compile(r"<img\s[^>]*src=\"([^\"]+)\"", re.IGNORECASE)


def plain_text(markdown):
    """A heading's text as GitHub renders it: links and images by their text, no emphasis or
    code markers, no inline HTML tags."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("*", "").replace("~~", "")


def slug(heading):
    """GitHub's anchor for a heading's text (before de-duplication)."""
    kept = []
    for ch in plain_text(heading).strip().lower():
        category = unicodedata.category(ch)
        if ch in " -" or category[0] in "LMN" or category == "Pc":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def lines_outside_code(text):
    """(line number, line) pairs outside fenced code blocks, code spans blanked."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield number, CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line)


_anchors = {}


def anchors(path):
    """The anchors of a Markdown page."""
    if path not in _anchors:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        seen, found = {}, set()
        for _, line in lines_outside_code(text):
            found.update(HTML_ANCHOR.findall(line))
        fence = None
        for line in text.splitlines():  # headings use the raw line: code spans count as text
            m = FENCE.match(line)
            if m:
                fence = m.group(1) if fence is None else (None if m.group(1) == fence else fence)
                continue
            h = HEADING.match(line) if fence is None else None
            if h:
                base = slug(h.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
        _anchors[path] = found
    return _anchors[path]


def check_target(page, target, image):
    """What is wrong with a link from `page` to `target`, or None."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("//"):
        return None  # another site (http:, https:, mailto:): not fetched
    path, _, anchor = target.partition("#")
    path = path.split("?")[0]
    if path:
        resolved = os.path.normpath(os.path.join(os.path.dirname(page), path))
        if os.path.commonpath([resolved, ROOT]) != ROOT:
            return "points outside the repository"
        if not os.path.exists(resolved):
            return "no such file" if not image else "no such image"
    else:
        resolved = page
    if anchor:
        if not resolved.endswith(".md") or os.path.isdir(resolved):
            return None  # anchors of other file types are not checked
        if anchor not in anchors(resolved):
            return f"no heading with anchor #{anchor} in {os.path.relpath(resolved, ROOT)}"
    return None


def check_page(page):
    with open(page, encoding="utf-8") as f:
        text = f.read()
    lines = list(lines_outside_code(text))
    definitions = {}
    for _, line in lines:
        d = REFERENCE_DEF.match(line)
        if d:
            definitions[d.group(1).lower()] = d.group(2)
    problems = []
    for number, line in lines:
        links = [(m.group(1) == "!", m.group(3)) for m in INLINE.finditer(line)]
        links += [(True, src) for src in HTML_IMG.findall(line)]
        for m in REFERENCE_USE.finditer(line):
            label = (m.group(3) or m.group(2)).lower()
            if label not in definitions:
                problems.append((number, f"[{m.group(2)}][{m.group(3)}]",
                                 f"no reference definition [{label}]"))
            else:
                links.append((m.group(1) == "!", definitions[label]))
        d = REFERENCE_DEF.match(line)
        if d:
            links.append((False, d.group(2)))
        for image, target in links:
            if not target:
                problems.append((number, "()", "empty link"))
                continue
            why = check_target(page, target, image)
            if why:
                problems.append((number, target, why))
    return problems


def main(argv):
    pages = argv or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")) + glob.glob(os.path.join(ROOT, "bench", "*.md")))
    bad = 0
    for page in pages:
        page = os.path.abspath(page)
        if not os.path.isfile(page):
            print(f"{page}: no such file", file=sys.stderr)
            bad += 1
            continue
        for number, target, why in check_page(page):
            print(f"{os.path.relpath(page, ROOT)}:{number}: {target}: {why}")
            bad += 1
    if bad:
        print(f"{bad} bad link(s)", file=sys.stderr)
        return 1
    print(f"links ok: {len(pages)} page(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
