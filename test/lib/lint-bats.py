#!/usr/bin/env python3
"""lint-bats.py FILE...: find assertions in bats files that cannot fail.

bats runs a test under `set -e`, and bash's `set -e` ignores the status of
  - a pipeline negated with `!`:          ! grep -q secret "$out"
  - every command of an && list but the last:  [ -e a ] && [ -e b ]
so on any line but the last of a test (or of a helper function) these check nothing: the
test goes on, and passes. Write `run ! cmd`, `refute_output`, `[[ a && b ]]`, two lines,
or `cmd && false` / `cond && fail "why"` (a list that ends in fail, false, return, exit,
break or continue is meant as "if").

Prints FILE:LINE: what and why, one line each, for statements at the top level of a
@test body or of a function body; exit status 1 when it found any.
"""
import re
import sys

OPENERS = {'if': 'fi', 'for': 'done', 'while': 'done', 'until': 'done', 'case': 'esac',
           'select': 'done'}
ENDS_IF = ('fail', 'false', 'return', 'exit', 'break', 'continue')


def split_top(text):
    """Split a statement at top-level && and || (outside quotes, $(...), (...), [[ ]],
    (( )), { }), returning [(op_before, part), ...]; op_before of the first part is ''."""
    parts, cur, op = [], [], ''
    i, n = 0, len(text)
    stack = []  # ')' for $( ( ((, ']]' for [[, '}' for ${ and {, '"' / "'" for quotes
    while i < n:
        c = text[i]
        top = stack[-1] if stack else None
        if top == "'":
            if c == "'":
                stack.pop()
            cur.append(c)
            i += 1
            continue
        if c == '\\' and i + 1 < n:
            cur.append(text[i:i + 2])
            i += 2
            continue
        if top == '"':
            if c == '"':
                stack.pop()
            elif text.startswith('$(', i):
                stack.append(')')
                cur.append('$(')
                i += 2
                continue
            elif text.startswith('${', i):
                stack.append('}')
                cur.append('${')
                i += 2
                continue
            cur.append(c)
            i += 1
            continue
        # unquoted
        if c == '#' and (i == 0 or text[i - 1] in ' \t\n;'):
            j = text.find('\n', i)
            i = n if j < 0 else j
            continue
        if c in '"\'':
            stack.append(c)
        elif text.startswith('[[', i) and (i == 0 or text[i - 1] in ' \t\n;(!'):
            stack.append(']]')
            cur.append('[[')
            i += 2
            continue
        elif top == ']]' and text.startswith(']]', i):
            stack.pop()
            cur.append(']]')
            i += 2
            continue
        elif c == '(':
            stack.append(')')
        elif c == ')' and top == ')':
            stack.pop()
        elif text.startswith('${', i):
            stack.append('}')
            cur.append('${')
            i += 2
            continue
        elif c == '}' and top == '}':
            stack.pop()
        elif not stack and text.startswith(('&&', '||'), i):
            parts.append((op, ''.join(cur).strip()))
            op, cur = text[i:i + 2], []
            i += 2
            continue
        cur.append(c)
        i += 1
    parts.append((op, ''.join(cur).strip()))
    return parts


def line_state(lines):
    """For each line: '' when it starts a fresh line of code, 'q' when it starts inside a
    quoted string, $(...) or (...) begun on an earlier line, 'h' when it is part of a
    here-document."""
    state, stack, heredoc = [], [], []
    for ln in lines:
        if heredoc:
            state.append('h')
            word, strip = heredoc[0]
            if (ln.lstrip('\t') if strip else ln) == word:
                heredoc.pop(0)
            continue
        state.append('q' if stack else '')
        i, n = 0, len(ln)
        while i < n:
            c = ln[i]
            top = stack[-1] if stack else None
            if top == "'":
                if c == "'":
                    stack.pop()
            elif c == '\\':
                i += 1
            elif top == '"':
                if c == '"':
                    stack.pop()
                elif ln.startswith('$(', i):
                    stack.append(')')
                    i += 1
            elif c == '#' and (i == 0 or ln[i - 1] in ' \t;'):
                break
            elif c in '"\'':
                stack.append(c)
            elif c == '(':
                stack.append(')')
            elif c == ')' and top == ')':
                stack.pop()
            elif ln.startswith('<<', i) and not ln.startswith('<<<', i):
                m = re.match(r'<<(-?)\s*([\'"]?)([A-Za-z_][A-Za-z0-9_]*)\2', ln[i:])
                if m:
                    heredoc.append((m.group(3), m.group(1) == '-'))
                    i += m.end()
                    continue
            i += 1
    return state


def statements(body, first):
    """Top-level statements of a body: [(line number, text)], by indentation: a statement
    starts at the body's base indentation, outside quotes and here-documents."""
    inside = line_state(body)
    base = None
    for ln, ins in zip(body, inside):
        if ln.strip() and not ins and not ln.lstrip().startswith('#'):
            base = len(ln) - len(ln.lstrip())
            break
    stmts = []
    cont = False
    for k, (ln, ins) in enumerate(zip(body, inside)):
        s = ln.strip()
        if ins == 'h':
            continue  # a here-document is data, not code
        if ins or not s or s.startswith('#'):
            if stmts and ins:
                stmts[-1][1].append(ln)
            continue
        ind = len(ln) - len(ln.lstrip())
        if ind == base and not cont:
            stmts.append((first + k, [ln]))
        elif stmts:
            stmts[-1][1].append(ln)
        code = re.sub(r'\s#.*$', '', s)
        cont = code.endswith(('\\', '&&', '||', '|'))
    return [(no, '\n'.join(t).strip()) for no, t in stmts]


def check(path):
    out = []
    lines = open(path, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = re.match(r'(@test\s+(["\']).*\2|(function\s+)?[A-Za-z_][\w-]*\s*\(\s*\))\s*\{\s*$',
                     ln)
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j] != '}':
            j += 1
        body = lines[i + 1:j]
        stmts = statements(body, i + 2)
        # `! cmd` inside a loop or an if is no better: flag it wherever it stands, unless
        # it is the body's last statement.
        last_no = stmts[-1][0] if stmts else 0
        for k, (ln, st) in enumerate(zip(body, line_state(body))):
            if not st and re.match(r'!\s', ln.strip()) and i + 2 + k != last_no and \
                    not any(no == i + 2 + k for no, _ in stmts):
                out.append('%s:%d: `! cmd` checks nothing under set -e unless it is the'
                           ' last line: use `run ! cmd` (or `cmd && false`)' % (path, i + 2 + k))
        for k, (no, text) in enumerate(stmts):
            if k == len(stmts) - 1:
                break  # the last statement's status is the test's
            first = text.split(None, 1)[0] if text.split() else ''
            if first in OPENERS or first in ('{', '(', '}', ')', 'fi', 'done', 'esac'):
                continue
            if re.match(r'!\s', text):
                out.append('%s:%d: `! cmd` before the last line checks nothing under set -e:'
                           ' use `run ! cmd` (or `cmd && false`)' % (path, no))
                continue
            parts = split_top(text)
            ops = [op for op, _ in parts[1:]]
            if '&&' in ops and '||' not in ops:
                last = parts[-1][1].split(None, 1)[0] if parts[-1][1].split() else ''
                if last not in ENDS_IF:
                    out.append('%s:%d: `a && b` before the last line does not fail when a'
                               ' fails (set -e): use [[ a && b ]] or two lines' % (path, no))
        i = j + 1
    return out


def main():
    found = []
    for p in sys.argv[1:]:
        found += check(p)
    found.sort(key=lambda f: (f.split(':')[0], int(f.split(':')[1])))
    for f in found:
        print(f)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
