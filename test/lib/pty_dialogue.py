#!/usr/bin/env python3
"""Drive a program through a pseudo-terminal, as a person at a terminal would.

    pty_dialogue.py TRANSCRIPT REGEX ANSWER [REGEX ANSWER...] -- PROGRAM [ARGS...]

Each REGEX is waited for (in the output since the last answer, 20 s at most), then
ANSWER and a newline are typed. Everything the terminal showed goes to TRANSCRIPT (what
was typed appears there only where the program echoed it). The exit status is the
program's, or 124 when a REGEX did not come (the output so far is on stderr)."""
import os
import pty
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    cut = args.index('--')
    transcript, pairs, argv = args[0], args[1:cut], args[cut + 1:]
    steps = list(zip(pairs[0::2], pairs[1::2]))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen, mark = b'', 0
    status = None
    for regex, answer in steps + [(None, None)]:
        deadline = time.monotonic() + 20
        while True:
            if regex is not None and re.search(regex.encode(), seen[mark:]):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                sys.stderr.write('pty_dialogue: no %r in:\n%s\n' %
                                 (regex, seen.decode('utf-8', 'replace')))
                os.kill(pid, 9)
                status = 124
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b''
            if not data:
                if regex is not None:
                    sys.stderr.write('pty_dialogue: ended before %r:\n%s\n' %
                                     (regex, seen.decode('utf-8', 'replace')))
                    status = 124
                break
            seen += data
        if status is not None or regex is None:
            break
        mark = len(seen)
        time.sleep(0.05)
        os.write(fd, answer.encode() + b'\n')
    _, st = os.waitpid(pid, 0)
    with open(transcript, 'wb') as f:
        f.write(seen.replace(b'\r\n', b'\n'))
    if status is None:
        status = os.waitstatus_to_exitcode(st)
    sys.exit(status)


main()
