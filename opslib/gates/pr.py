"""`opsbook check-pr`: the pull-request body against the PR template (runbook §5), 1 WI = 1 PR.

What the template requires (README "Branch and PR checks"):
- every heading is a section; a section whose heading says "(optional)" or "(선택)" requires nothing;
- a checklist item `- [ ] text` is filled when the body has it checked (`- [x] text`), or unchecked with
  `N/A: <reason>` (or `해당 없음: <reason>`) after it; in a section whose heading says "(one or more)" /
  "(택1)" / "(하나 이상)" one checked item fills them all;
- a field `Label: value` (e.g. `- WI: WI-XXX`) is filled when the body has the label with a value that
  is not the template's own value and does not look like a placeholder (`<...>`, `XXX`, `...`, `TBD`);
- a section with neither items nor fields is free text: filled when the body's section has a line
  that is not in the template (an unchanged placeholder is not filled) and not an HTML comment.
HTML comments in the template are guidance and require nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opslib.gates.branch import WI_ID, BranchVerdict

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_CHECKBOX = re.compile(r"^\s*[-*+]\s+\[(?P<mark>[ xX])\]\s+(?P<text>.+?)\s*$")
_FIELD = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?P<label>[^:：\[\]<>`|]{1,40}?)(?:\*\*)?\s*[:：]\s*(?P<value>.*?)\s*$")
_OPTIONAL = re.compile(r"\((?:optional|선택)\)", re.IGNORECASE)
_ANY_OF = re.compile(r"\((?:one or more|any of|택\s*1|하나 이상)\)", re.IGNORECASE)
_NA = re.compile(r"(?:N/A|해당\s*없음|면제)\s*[:：-]?\s*(?P<reason>.*)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^(?:<[^>]*>|\.{2,}|…|-|TBD|TODO|XXX+|WI-X+|\?+|\(.*\)|)$", re.IGNORECASE)
MIN_NA_REASON = 5


@dataclass(frozen=True)
class Item:
    kind: str  # checkbox | field | text
    section: str
    text: str
    template_value: str = ""
    any_of: bool = False


@dataclass(frozen=True)
class ItemResult:
    item: Item
    filled: bool
    why: str = ""


@dataclass(frozen=True)
class PRVerdict:
    items: tuple[ItemResult, ...]
    problems: tuple[str, ...]
    wi: str | None
    wi_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _norm(s: str) -> str:
    return " ".join(s.replace("*", "").replace("`", "").split()).casefold()


def _sections(markdown: str) -> dict[str, list[str]]:
    """Lines under each heading (HTML comments removed); lines before any heading go under ''."""
    out: dict[str, list[str]] = {"": []}
    current = ""
    in_fence = False
    for line in _COMMENT.sub("", markdown).splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            current = _norm(m.group("title"))
            out.setdefault(current, [])
        else:
            out[current].append(line)
    return out


def template_items(template: str) -> list[Item]:
    items: list[Item] = []
    titles = {_norm(m.group("title")): m.group("title") for m in map(_HEADING.match, template.splitlines()) if m}
    for key, lines in _sections(template).items():
        title = titles.get(key, "")
        if _OPTIONAL.search(title):
            continue
        any_of = bool(_ANY_OF.search(title))
        section_items = []
        for line in lines:
            if _OPTIONAL.search(line):
                continue
            cb = _CHECKBOX.match(line)
            if cb:
                section_items.append(Item("checkbox", title, cb.group("text"), any_of=any_of))
                continue
            fm = _FIELD.match(line)
            if fm and not line.strip().startswith("|"):
                section_items.append(Item("field", title, fm.group("label").strip(), fm.group("value")))
        if section_items:
            items.extend(section_items)
        elif key:  # a heading with neither items nor fields: free text
            placeholder = "\n".join(ln.strip() for ln in lines if ln.strip())
            items.append(Item("text", title, title, placeholder))
    return items


def check_body(template: str, body: str) -> list[ItemResult]:
    body_sections = _sections(body)
    template_sections = _sections(template)
    results = []
    for item in template_items(template):
        key = _norm(item.section)
        lines = body_sections.get(key)
        if lines is None:
            results.append(ItemResult(item, False, f"section '{item.section}' is missing from the body"))
            continue
        if item.kind == "checkbox":
            results.append(_checkbox(item, lines))
        elif item.kind == "field":
            results.append(_field(item, lines))
        else:
            known = {_norm(ln) for ln in template_sections.get(key, [])}
            written = [ln for ln in lines if ln.strip() and _norm(ln) not in known]
            results.append(
                ItemResult(item, True)
                if written
                else ItemResult(item, False, "only the template's placeholder (or nothing) under it")
            )
    # "(one or more)" sections: one checked box fills the group
    groups: dict[str, bool] = {}
    for r in results:
        if r.item.any_of and r.item.kind == "checkbox":
            groups[r.item.section] = groups.get(r.item.section, False) or r.why == "checked"
    return [
        ItemResult(r.item, groups[r.item.section], "" if groups[r.item.section] else "none of the group is checked")
        if r.item.any_of and r.item.kind == "checkbox"
        else r
        for r in results
    ]


def _checkbox(item: Item, lines: list[str]) -> ItemResult:
    want = _norm(item.text)
    for line in lines:
        m = _CHECKBOX.match(line)
        if not m or not _norm(m.group("text")).startswith(want):
            continue
        if m.group("mark") in "xX":
            return ItemResult(item, True, "checked")
        rest = m.group("text")[len(item.text) :] if m.group("text").startswith(item.text) else m.group("text")
        na = _NA.search(rest)
        if na and len(na.group("reason").strip()) >= MIN_NA_REASON:
            return ItemResult(item, True, f"N/A: {na.group('reason').strip()}")
        return ItemResult(item, False, "unchecked (check it, or write 'N/A: <reason>' after it)")
    return ItemResult(item, False, "checklist item missing from the body")


def _field(item: Item, lines: list[str]) -> ItemResult:
    want = _norm(item.text)
    for line in lines:
        m = _FIELD.match(line)
        if not m or _norm(m.group("label")) != want:
            continue
        value = m.group("value").strip()
        if not value or _PLACEHOLDER.match(value) or _norm(value) == _norm(item.template_value):
            return ItemResult(item, False, f"'{item.text}:' still holds the template's placeholder")
        return ItemResult(item, True)
    return ItemResult(item, False, f"field '{item.text}:' missing from the body")


def check_pr(template: str, title: str, body: str, branch: BranchVerdict | None) -> PRVerdict:
    items = tuple(check_body(template, body))
    problems = []
    for r in items:
        if r.filled:
            continue
        if r.item.any_of and r.item.kind == "checkbox":
            msg = f"section '{r.item.section}': check at least one item"
        else:
            msg = f"{r.item.kind} '{r.item.text}' ({r.item.section or 'top'}): {r.why}"
        if msg not in problems:
            problems.append(msg)
    ids = {
        "branch": (branch.wi,) if branch and branch.wi else (),
        "title": tuple(dict.fromkeys(WI_ID.findall(title))),
        "body": tuple(dict.fromkeys(WI_ID.findall(_COMMENT.sub("", body)))),
    }
    every = set(ids["branch"]) | set(ids["title"]) | set(ids["body"])
    wi = ids["branch"][0] if ids["branch"] else (sorted(every)[0] if len(every) == 1 else None)
    if branch is not None:
        problems.extend(f"branch: {p}" for p in branch.problems)
    if len(every) > 1:
        problems.append(f"1 WI = 1 PR: branch, title and body name {', '.join(sorted(every))}")
    elif branch is not None and branch.kind == "wi":
        for where in ("title", "body"):
            if not ids[where]:
                problems.append(f"the {where} does not name {branch.wi} (the branch's work item)")
    elif not every and (branch is None or branch.kind != "hotfix"):
        problems.append("no WI id (WI-<digits>) in the branch, the title or the body")
    return PRVerdict(items, tuple(problems), wi, ids)
